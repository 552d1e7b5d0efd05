"""The Avro schemas of Chirp events: loading, fingerprints, versions and their compatibility.

Owns the `.avsc` files in `schemas/avsc/`: one record per file, namespace `chirp.events`,
record name equal to the event name. `TweetPosted.avsc` is version 1, `TweetPosted.v2.avsc`
version 2, and so on. The newest version of an event is its writer schema; every version stays
readable, because the CRC-64-AVRO fingerprint in a single-object header selects it. There is
no remote schema registry: the files are the registry. Must never talk to Kafka or any server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
from fastavro import parse_schema
from fastavro.schema import fingerprint as fastavro_fingerprint
from fastavro.schema import to_parsing_canonical_form

from schemas.errors import (
    SchemaCompatibilityError,
    SchemaDefinitionError,
    UnknownEventType,
    UnknownFingerprint,
)

EVENT_NAMESPACE = "chirp.events"
_SCHEMA_FILE = re.compile(
    r"(?P<event>[A-Za-z_][A-Za-z0-9_]*)(?:\.v(?P<version>[1-9][0-9]*))?\.avsc"
)


def schema_fingerprint(schema: str | dict[str, Any] | list[Any]) -> bytes:
    """CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form, as the 8 header bytes.

    `schema` is a type name (`"long"`) or a JSON-decoded schema. fastavro's canonical form
    matches Java's, which drops a logical type entirely (`"long"`); the `avro` package's keeps
    `{"type":"long"}` (1.12) and so gives other fingerprints for timestamp fields.
    """
    return _crc_64_avro(to_parsing_canonical_form(schema))


def _crc_64_avro(canonical: str) -> bytes:
    # fastavro renders the 64-bit value as the hex of its little-endian bytes, which is the
    # byte order the single-object encoding puts on the wire.
    return bytes.fromhex(fastavro_fingerprint(canonical, "CRC-64-AVRO"))


@dataclass(frozen=True, slots=True, eq=False)
class SchemaVersion:
    """One version of one event's schema, as loaded from its `.avsc` file."""

    event_name: str
    version: int
    file_name: str
    text: str = field(repr=False)
    definition: dict[str, Any] = field(repr=False)
    """The JSON of the file, untouched."""
    canonical_form: str = field(repr=False)
    fingerprint: bytes
    """8 bytes, little-endian, exactly as in a single-object header."""


def load_schema_version(file_name: str, text: str) -> SchemaVersion:
    """Parse one `.avsc` file; its name gives the event name and version."""
    match = _SCHEMA_FILE.fullmatch(file_name)
    if match is None:
        raise SchemaDefinitionError(
            f"{file_name}: expected a file name like 'TweetPosted.avsc' or 'TweetPosted.v2.avsc'"
        )
    event_name = match["event"]
    version = int(match["version"] or 1)
    try:
        definition = json.loads(text)
        parsed = parse_schema(definition)
    except Exception as exc:
        raise SchemaDefinitionError(f"{file_name}: not a valid Avro schema: {exc}") from exc

    expected_name = f"{EVENT_NAMESPACE}.{event_name}"
    if not isinstance(parsed, dict) or parsed.get("type") != "record":
        raise SchemaDefinitionError(f"{file_name}: the top-level schema must be a record")
    if parsed["name"] != expected_name:
        raise SchemaDefinitionError(
            f"{file_name}: record is named {parsed['name']!r}, expected {expected_name!r}"
        )
    canonical_form = to_parsing_canonical_form(definition)
    return SchemaVersion(
        event_name=event_name,
        version=version,
        file_name=file_name,
        text=text,
        definition=definition,
        canonical_form=canonical_form,
        fingerprint=_crc_64_avro(canonical_form),
    )


class SchemaRegistry:
    """Every known schema version, by fingerprint and by event name."""

    def __init__(self, versions: Iterable[SchemaVersion]) -> None:
        by_event: dict[str, dict[int, SchemaVersion]] = {}
        by_fingerprint: dict[bytes, SchemaVersion] = {}
        for schema in versions:
            known = by_event.setdefault(schema.event_name, {})
            if schema.version in known:
                raise SchemaDefinitionError(
                    f"{schema.file_name} and {known[schema.version].file_name} are both "
                    f"version {schema.version} of {schema.event_name}"
                )
            if schema.fingerprint in by_fingerprint:
                # Same Parsing Canonical Form (e.g. only docs or defaults changed): the header
                # could not tell the two apart.
                raise SchemaDefinitionError(
                    f"{schema.file_name} and {by_fingerprint[schema.fingerprint].file_name} "
                    f"have the same fingerprint {schema.fingerprint.hex()}"
                )
            known[schema.version] = schema
            by_fingerprint[schema.fingerprint] = schema
        self._by_fingerprint = by_fingerprint
        self._versions = {
            name: tuple(known[v] for v in sorted(known)) for name, known in sorted(by_event.items())
        }

    @classmethod
    def from_directory(cls, directory: Traversable) -> SchemaRegistry:
        """Load every `*.avsc` file in `directory` (a `Path` or a package resource)."""
        return cls(
            load_schema_version(entry.name, entry.read_text(encoding="utf-8"))
            for entry in sorted(directory.iterdir(), key=lambda entry: entry.name)
            if entry.name.endswith(".avsc")
        )

    @classmethod
    def packaged(cls) -> SchemaRegistry:
        """The schemas shipped in this package (`schemas/avsc/`)."""
        return cls.from_directory(resources.files("schemas") / "avsc")

    @property
    def event_names(self) -> tuple[str, ...]:
        return tuple(self._versions)

    def by_fingerprint(self, fingerprint: bytes) -> SchemaVersion:
        try:
            return self._by_fingerprint[fingerprint]
        except KeyError:
            raise UnknownFingerprint(fingerprint) from None

    def versions(self, event_name: str) -> tuple[SchemaVersion, ...]:
        """All versions of an event, oldest first."""
        try:
            return self._versions[event_name]
        except KeyError:
            raise UnknownEventType(f"no schema for event type {event_name!r}") from None

    def latest(self, event_name: str) -> SchemaVersion:
        """The writer schema of an event: its newest version."""
        return self.versions(event_name)[-1]

    def __iter__(self) -> Iterator[SchemaVersion]:
        for versions in self._versions.values():
            yield from versions

    def __len__(self) -> int:
        return len(self._by_fingerprint)


def compatibility_problems(registry: SchemaRegistry) -> list[str]:
    """Why some newer version of an event cannot read some older one; empty when all can.

    Uses the `avro` package's checker, independent of fastavro which does the decoding.
    """
    checker = ReaderWriterCompatibilityChecker()
    problems: list[str] = []
    for event_name in registry.event_names:
        versions = [(v, avro.schema.parse(v.text)) for v in registry.versions(event_name)]
        for index, (writer, writer_schema) in enumerate(versions):
            for reader, reader_schema in versions[index + 1 :]:
                result = checker.get_compatibility(reader_schema, writer_schema)
                if result.compatibility is not SchemaCompatibilityType.compatible:
                    details = "; ".join(sorted(result.messages))
                    problems.append(
                        f"{reader.file_name} cannot read {writer.file_name}: {details} "
                        f"at {', '.join(sorted(result.locations))}"
                    )
    return problems


def check_compatibility(registry: SchemaRegistry) -> None:
    """Raise `SchemaCompatibilityError` unless every newer version reads every older one."""
    problems = compatibility_problems(registry)
    if problems:
        raise SchemaCompatibilityError(problems)
