"""The wire form of Chirp events: Avro schemas and the single-object codec.

Owns `schemas/avsc/*.avsc` (one record per event type and version), their CRC-64-AVRO
fingerprints and compatibility rules, the event catalogue (each domain event class with its
schema, topic family and record key) and the log's layout (topic families, positions). It is
a pure codec layer: it imports `domain`, the standard library, fastavro and avro, and must
never import Faust, Kafka, Redis or FastAPI, nor do any I/O beyond reading its own schema
files.
"""

from schemas.catalogue import CATALOGUE, EventSpec, spec_of
from schemas.codec import EventCodec
from schemas.errors import (
    BadMagic,
    EventDecodeError,
    EventEncodeError,
    SchemaCompatibilityError,
    SchemaDefinitionError,
    TruncatedEvent,
    UnknownEventType,
    UnknownFingerprint,
)
from schemas.log import LoggedEvent, Position
from schemas.registry import SchemaRegistry, SchemaVersion, check_compatibility

__all__ = [
    "CATALOGUE",
    "BadMagic",
    "EventCodec",
    "EventDecodeError",
    "EventEncodeError",
    "EventSpec",
    "LoggedEvent",
    "Position",
    "SchemaCompatibilityError",
    "SchemaDefinitionError",
    "SchemaRegistry",
    "SchemaVersion",
    "TruncatedEvent",
    "UnknownEventType",
    "UnknownFingerprint",
    "check_compatibility",
    "spec_of",
]
