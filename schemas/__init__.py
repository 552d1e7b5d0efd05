"""The wire form of Chirp events: Avro schemas and the single-object codec.

Owns `schemas/avsc/*.avsc` (one record per event type and version), their CRC-64-AVRO
fingerprints and compatibility rules, and the mapping between domain event dataclasses and
Avro records. It is a pure codec layer: it imports `domain`, the standard library, fastavro and
avro, and must never import Faust, Kafka, Redis or FastAPI, nor do any I/O beyond reading its
own schema files.
"""

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
from schemas.mapping import EVENT_MAPPINGS, EventMapping
from schemas.registry import SchemaRegistry, SchemaVersion, check_compatibility

__all__ = [
    "EVENT_MAPPINGS",
    "BadMagic",
    "EventCodec",
    "EventDecodeError",
    "EventEncodeError",
    "EventMapping",
    "SchemaCompatibilityError",
    "SchemaDefinitionError",
    "SchemaRegistry",
    "SchemaVersion",
    "TruncatedEvent",
    "UnknownEventType",
    "UnknownFingerprint",
    "check_compatibility",
]
