"""Domain events to Avro single-object encoding and back.

Owns the bytes of an event value: `C3 01`, the writer schema's 8-byte CRC-64-AVRO fingerprint
(little-endian), then the Avro binary body. Everything that depends only on a schema is worked
out once, when the codec is built; `encode` and `decode` do no schema parsing. Decoding never
lets a fastavro exception escape: callers catch `EventDecodeError` and dead-letter the record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from io import BytesIO
from typing import Any, NamedTuple

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from domain.events import Event
from schemas.catalogue import CATALOGUE, NESTED_RECORDS, EventSpec
from schemas.errors import (
    BadMagic,
    EventDecodeError,
    EventEncodeError,
    SchemaDefinitionError,
    TruncatedEvent,
    UnknownEventType,
    UnknownFingerprint,
)
from schemas.registry import SchemaRegistry, SchemaVersion
from schemas.sealing import SEALED_FIELD, PersonalKeys, associated_data, seal, unseal

MAGIC = b"\xc3\x01"
HEADER_SIZE = len(MAGIC) + 8

# The domain keeps these as int milliseconds already; without the logical type fastavro reads
# and writes the plain long, skipping a datetime round trip (and its year-9999 range limit).
# Logical types are not part of the Parsing Canonical Form, so fingerprints are unaffected.
_LOGICAL_TYPES_KEPT_AS_INT = frozenset({"timestamp-millis"})

_Convert = Callable[[Any], Any]


class _Sealing(NamedTuple):
    """How one event type's personal fields are sealed (`schemas.sealing`)."""

    fields: tuple[str, ...]
    owner: str
    blanks: dict[str, Any]
    """What the sealed fields hold on the wire, and when their owner's key is gone."""


class _Encoder(NamedTuple):
    event_name: str
    header: bytes
    schema: dict[str, Any]
    to_record: _Convert
    sealing: _Sealing | None


class _Decoder(NamedTuple):
    event_name: str
    writer: dict[str, Any]
    reader: dict[str, Any] | None
    from_record: _Convert
    sealing: _Sealing | None


class EventCodec:
    """Encodes and decodes the events of `catalogue` with the schemas in `registry`.

    Events are written with the newest version of their schema and read with it too, so an
    event written with an older version comes back with the newer fields' defaults.

    With `keys`, personal fields are sealed under their owner's key on the way out and opened
    on the way in; a field whose owner's key was destroyed reads as erased (its blank value).
    Without `keys` (tools and tests that make their own events), personal fields are written
    in the clear and sealed ones read as erased.
    """

    def __init__(
        self,
        registry: SchemaRegistry | None = None,
        catalogue: Iterable[EventSpec[Any]] = CATALOGUE,
        record_types: Mapping[str, type] = NESTED_RECORDS,
        keys: PersonalKeys | None = None,
    ) -> None:
        registry = registry if registry is not None else SchemaRegistry.packaged()
        specs = tuple(catalogue)
        _check_catalogue_matches_schemas(registry, specs)
        self.keys = keys

        self._encoders: dict[type, _Encoder] = {}
        self._decoders: dict[bytes, _Decoder] = {}
        for spec in specs:
            latest = registry.latest(spec.schema_name)
            schema = _wire_schema(latest)
            sealing = _sealing_of(spec, schema)
            to_record, from_record = _record_converters(
                schema,
                schema["__named_schemas"],
                spec.event_class,
                spec.avro_names,
                record_types,
                wire_only=(SEALED_FIELD,) if sealing else (),
            )
            self._encoders[spec.event_class] = _Encoder(
                spec.schema_name, MAGIC + latest.fingerprint, schema, to_record, sealing
            )
            for version in registry.versions(spec.schema_name):
                # Reading with the same schema needs no resolution step.
                writer = schema if version is latest else _wire_schema(version)
                reader = None if version is latest else schema
                self._decoders[version.fingerprint] = _Decoder(
                    spec.schema_name, writer, reader, from_record, sealing
                )

    def event_type_name(self, event: Event) -> str:
        """The name of the event's type, as in its schema and the `event-type` header."""
        return self._encoder(event).event_name

    def encode(self, event: Event) -> bytes:
        """The event as single-object encoding, written with its newest schema."""
        encoder = self._encoder(event)
        # A fresh buffer per call costs about as much as resetting a shared one and keeps the
        # codec safe to share between threads.
        record = encoder.to_record(event)
        if encoder.sealing is not None:
            self._seal(encoder.event_name, encoder.sealing, event, record)
        stream = BytesIO()
        stream.write(encoder.header)
        try:
            schemaless_writer(stream, encoder.schema, record)
        except Exception as exc:  # a value that does not fit its field, e.g. an id over 2**63
            raise EventEncodeError(f"cannot encode {encoder.event_name}: {exc!r}") from exc
        return stream.getvalue()

    def decode(self, data: bytes) -> Event:
        """The event in `data`; raises an `EventDecodeError` subclass if that is not possible."""
        if data[:2] != MAGIC:
            raise BadMagic(
                f"expected the single-object marker c301, got {data[:2].hex() or 'nothing'}"
            )
        if len(data) < HEADER_SIZE:
            raise TruncatedEvent(f"header is {len(data)} bytes long, expected {HEADER_SIZE}")
        fingerprint = data[2:HEADER_SIZE]
        try:
            decoder = self._decoders[fingerprint]
        except KeyError:
            raise UnknownFingerprint(bytes(fingerprint)) from None

        stream = BytesIO(data)
        stream.seek(HEADER_SIZE)
        try:
            record = schemaless_reader(stream, decoder.writer, decoder.reader)
        except Exception as exc:
            # fastavro does not always say EOFError when the bytes run out: a varint cut short
            # raises IndexError, which is otherwise a bad union branch or enum symbol index.
            ran_out = isinstance(exc, IndexError) and stream.tell() >= len(data)
            if isinstance(exc, EOFError) or ran_out:
                raise TruncatedEvent(f"{decoder.event_name} body ends early: {exc!r}") from exc
            raise EventDecodeError(f"invalid {decoder.event_name} body: {exc!r}") from exc
        if stream.tell() != len(data):
            raise EventDecodeError(
                f"{len(data) - stream.tell()} unexpected bytes after the {decoder.event_name} body"
            )
        if decoder.sealing is not None and record[SEALED_FIELD] is not None:
            self._unseal(decoder.event_name, decoder.sealing, record)
        event: Event = decoder.from_record(record)
        return event

    def _seal(
        self, event_name: str, sealing: _Sealing, event: Event, record: dict[str, Any]
    ) -> None:
        if self.keys is None:
            record[SEALED_FIELD] = None
            return
        owner = record[sealing.owner]
        personal = {name: getattr(event, name) for name in sealing.fields}
        key = self.keys.key_for_writing(owner)
        record[SEALED_FIELD] = seal(key, personal, associated_data(event_name, owner))
        record.update(sealing.blanks)

    def _unseal(self, event_name: str, sealing: _Sealing, record: dict[str, Any]) -> None:
        """Put the personal fields back; they stay blank (erased) if the owner's key is gone."""
        owner = record[sealing.owner]
        key = None if self.keys is None else self.keys.key_of(owner)
        if key is None:
            return
        opened = unseal(key, record[SEALED_FIELD], associated_data(event_name, owner))
        for name in sealing.fields:
            if name in opened:
                record[name] = opened[name]

    def _encoder(self, event: Event) -> _Encoder:
        try:
            return self._encoders[type(event)]
        except KeyError:
            raise UnknownEventType(f"{type(event).__qualname__} is not in the catalogue") from None


def _check_catalogue_matches_schemas(
    registry: SchemaRegistry, specs: tuple[EventSpec[Any], ...]
) -> None:
    listed = [spec.schema_name for spec in specs]
    duplicated = sorted({name for name in listed if listed.count(name) > 1})
    unlisted = sorted(set(registry.event_names) - set(listed))
    without_schema = sorted(set(listed) - set(registry.event_names))
    problems = []
    if duplicated:
        problems.append(f"in the catalogue more than once: {', '.join(duplicated)}")
    if unlisted:
        problems.append(f"schemas not in the catalogue: {', '.join(unlisted)}")
    if without_schema:
        problems.append(f"catalogue events without a schema: {', '.join(without_schema)}")
    if problems:
        raise SchemaDefinitionError("; ".join(problems))


def _sealing_of(spec: EventSpec[Any], schema: Mapping[str, Any]) -> _Sealing | None:
    """How `spec`'s personal fields are sealed in `schema` (its newest version)."""
    if not spec.sealed:
        return None
    fields = {f["name"]: f for f in schema["fields"]}
    if SEALED_FIELD not in fields:
        raise SchemaDefinitionError(
            f"{spec.schema_name} has personal fields but its newest schema no {SEALED_FIELD!r}"
        )
    blanks = {}
    for name in spec.sealed:
        if name not in fields or "default" not in fields[name]:
            raise SchemaDefinitionError(
                f"{spec.schema_name}.{name} is personal: it needs a default (its blank value)"
            )
        blanks[name] = fields[name]["default"]
    return _Sealing(spec.sealed, spec.sealed_by, blanks)


def _wire_schema(version: SchemaVersion) -> dict[str, Any]:
    """The fastavro schema the codec reads and writes with (see `_LOGICAL_TYPES_KEPT_AS_INT`)."""
    parsed = parse_schema(_without_int_logical_types(version.definition))
    assert isinstance(parsed, dict)  # the registry only loads records
    return parsed


def _without_int_logical_types(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_without_int_logical_types(branch) for branch in schema]
    if not isinstance(schema, Mapping):
        return schema
    copy = dict(schema)
    if copy.get("logicalType") in _LOGICAL_TYPES_KEPT_AS_INT:
        del copy["logicalType"]
    for key in ("type", "items", "values"):
        if key in copy:
            copy[key] = _without_int_logical_types(copy[key])
    if "fields" in copy:
        copy["fields"] = [_without_int_logical_types(f) for f in copy["fields"]]
    return copy


def _record_converters(
    schema: Mapping[str, Any],
    named: Mapping[str, Any],
    cls: type,
    field_names: Mapping[str, str],
    record_types: Mapping[str, type],
    wire_only: tuple[str, ...] = (),
) -> tuple[_Convert, _Convert]:
    """Functions from a dataclass instance to a fastavro record dict, and back.

    `schema` is a fastavro-parsed record; `field_names` maps attributes to Avro field names
    where they differ. The dataclass and the record must have exactly the same fields, but
    for `wire_only` ones (the codec's own, e.g. the sealed blob), which the converters skip.
    """
    attributes = [f.name for f in dataclasses.fields(cls)]
    avro_to_attribute = {field_names.get(name, name): name for name in attributes}
    fields = [f for f in schema["fields"] if f["name"] not in wire_only]
    avro_fields = [f["name"] for f in fields]
    if sorted(avro_to_attribute) != sorted(avro_fields):
        raise SchemaDefinitionError(
            f"{cls.__qualname__} fields {sorted(avro_to_attribute)} do not match "
            f"{schema['name']} fields {sorted(avro_fields)}"
        )

    # Fields that need no conversion are copied in one comprehension; the rest go through
    # their converter.
    copy_out: list[tuple[str, str]] = []
    convert_out: list[tuple[str, str, _Convert]] = []
    copy_in: list[tuple[str, str]] = []
    convert_in: list[tuple[str, str, _Convert]] = []
    for avro_field in fields:
        name = avro_field["name"]
        attribute = avro_to_attribute[name]
        to_avro, from_avro = _converters(avro_field["type"], named, record_types)
        if to_avro is None:
            copy_out.append((attribute, name))
        else:
            convert_out.append((attribute, name, to_avro))
        if from_avro is None:
            copy_in.append((attribute, name))
        else:
            convert_in.append((attribute, name, from_avro))

    def to_record(obj: Any) -> dict[str, Any]:
        record = {name: getattr(obj, attribute) for attribute, name in copy_out}
        for attribute, name, to_avro in convert_out:
            record[name] = to_avro(getattr(obj, attribute))
        return record

    def from_record(record: Mapping[str, Any]) -> Any:
        kwargs = {attribute: record[name] for attribute, name in copy_in}
        for attribute, name, from_avro in convert_in:
            kwargs[attribute] = from_avro(record[name])
        return cls(**kwargs)

    return to_record, from_record


def _converters(
    schema: Any, named: Mapping[str, Any], record_types: Mapping[str, type]
) -> tuple[_Convert | None, _Convert | None]:
    """(to Avro, from Avro) for one fastavro-parsed type; `None` means the value is used as is.

    Arrays are written from lists and read back as tuples; nested records map to the
    dataclasses in `record_types`.
    """
    schema = _resolve(schema, named)
    if isinstance(schema, str):
        return None, None
    if isinstance(schema, list):
        return _union_converters(schema, named, record_types)

    kind = schema["type"]
    if kind == "array":
        return _array_converters(*_converters(schema["items"], named, record_types))
    if kind == "map":
        return _map_converters(*_converters(schema["values"], named, record_types))
    if kind == "record":
        try:
            cls = record_types[schema["name"]]
        except KeyError:
            raise SchemaDefinitionError(
                f"no domain class for nested record {schema['name']} (add it to NESTED_RECORDS)"
            ) from None
        return _record_converters(schema, named, cls, {}, record_types)
    if kind in ("enum", "fixed"):
        return None, None
    # {"type": "long"} and the like, left over after removing a logical type.
    return _converters(kind, named, record_types)


def _resolve(schema: Any, named: Mapping[str, Any]) -> Any:
    """The definition behind a reference to a named type, or the schema itself."""
    if isinstance(schema, str):
        return named.get(schema, schema)
    return schema


def _array_converters(
    to_item: _Convert | None, from_item: _Convert | None
) -> tuple[_Convert, _Convert]:
    # Always a list on the way out: inside a union fastavro would take a tuple for its
    # (record name, value) notation.
    to_avro: _Convert = list
    from_avro: _Convert = tuple
    if to_item is not None:
        to_avro = lambda values: [to_item(v) for v in values]  # noqa: E731
    if from_item is not None:
        from_avro = lambda values: tuple([from_item(v) for v in values])  # noqa: E731
    return to_avro, from_avro


def _map_converters(
    to_value: _Convert | None, from_value: _Convert | None
) -> tuple[_Convert | None, _Convert | None]:
    to_avro: _Convert | None = None
    from_avro: _Convert | None = None
    if to_value is not None:
        to_avro = lambda values: {k: to_value(v) for k, v in values.items()}  # noqa: E731
    if from_value is not None:
        from_avro = lambda values: {k: from_value(v) for k, v in values.items()}  # noqa: E731
    return to_avro, from_avro


def _union_converters(
    branches: list[Any], named: Mapping[str, Any], record_types: Mapping[str, type]
) -> tuple[_Convert | None, _Convert | None]:
    non_null = [_resolve(branch, named) for branch in branches if branch != "null"]
    converters = [_converters(branch, named, record_types) for branch in non_null]
    if all(to_avro is None and from_avro is None for to_avro, from_avro in converters):
        return None, None
    if len(non_null) != 1 or len(branches) != 2:
        # Telling the branches apart would need a type test per value; no event needs it yet.
        raise SchemaDefinitionError(
            f"unsupported union {branches}: only ['null', X] may contain arrays or records"
        )
    to_value, from_value = converters[0]
    branch = non_null[0]
    if isinstance(branch, dict) and branch["type"] == "record" and to_value is not None:
        # Naming the branch, as (full name, record), spares fastavro from validating the
        # value against every branch to find it: about 2 us per event.
        to_value = _named_branch(branch["name"], to_value)
    return _optional(to_value), _optional(from_value)


def _named_branch(name: str, convert: _Convert) -> _Convert:
    return lambda value: (name, convert(value))


def _optional(convert: _Convert | None) -> _Convert | None:
    if convert is None:
        return None
    return lambda value: None if value is None else convert(value)
