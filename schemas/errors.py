"""Errors raised by the codec layer.

Consumers catch `EventDecodeError` to send a record to the dead-letter topic; every decoding
failure, whatever its cause inside fastavro, surfaces as one of its subclasses.
"""

from __future__ import annotations

from collections.abc import Sequence


class EventDecodeError(Exception):
    """The bytes are not a valid single-object encoded Chirp event."""


class BadMagic(EventDecodeError):
    """The value does not start with the single-object marker `C3 01`."""


class UnknownFingerprint(EventDecodeError):
    """No known writer schema has this CRC-64-AVRO fingerprint."""

    def __init__(self, fingerprint: bytes) -> None:
        super().__init__(f"no schema with fingerprint {fingerprint.hex()} (little-endian bytes)")
        self.fingerprint = fingerprint


class TruncatedEvent(EventDecodeError):
    """The value ends before the header or the Avro body is complete."""


class EventEncodeError(Exception):
    """An event could not be encoded."""


class UnknownEventType(EventEncodeError, LookupError):
    """No schema or mapping exists for this event type."""


class SchemaDefinitionError(Exception):
    """The `.avsc` files or the event mapping table are inconsistent."""


class SchemaCompatibilityError(SchemaDefinitionError):
    """A newer schema version cannot read an older one."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("incompatible schema versions:\n" + "\n".join(problems))
        self.problems = tuple(problems)
