"""Chirp's pure domain: ids, text rules, commands, events, invariants and errors.

Imports only the standard library and itself; never Kafka, Redis, RocksDB, FastAPI or Avro.
"""
