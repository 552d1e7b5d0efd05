"""Wiring: settings, local Kafka and Redis, topic administration, the `chirp` CLI, replay."""
