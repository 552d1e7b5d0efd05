"""One Iceberg table per event type: its schema, partitioning and how an event becomes a row.

Owns the mapping from domain event dataclasses to analytic rows; derived from the dataclass
fields, so a new event type or an added field gets its table or column without code here.
Ids are 64-bit integers, `*_at_ms` fields become microsecond `timestamptz` columns named `*_at`,
tuples become lists, nested dataclasses (`GeoPoint`, `MediaVariant`) become structs. Every row
also carries the event id, occurred-at and correlation id from the record headers and its
Kafka coordinates. Secrets never reach the warehouse (`password_hash` is left out). Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pyarrow as pa
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema, assign_fresh_schema_ids
from pyiceberg.transforms import DayTransform
from pyiceberg.types import (
    BooleanType,
    DoubleType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    NestedField,
    StringType,
    StructType,
    TimestamptzType,
)

from domain.events import Event

NAMESPACE = "chirp"
MILLIS_SUFFIX = "_at_ms"
EXCLUDED_FIELDS = frozenset({"password_hash", "email"})  # secrets and contact details stay out
PARTITION_SOURCE = "occurred_at"
PARTITION_NAME = "occurred_day"
PARTITION_FIELD_ID = 1000  # Iceberg numbers partition fields from 1000

# Properties every analytics table is created with (and kept at on every sink start).
TABLE_PROPERTIES = {
    # The sink decides what to append from the offsets it read in the table's current
    # metadata; pyiceberg's own retry would re-base the append on newer metadata and defeat
    # that check. A conflict must fail, so the sink re-reads the offsets and tries again.
    "commit.retry.num-retries": "0",
    # A micro-batch per commit: merge manifests, keep only recent metadata files.
    "commit.manifest-merge.enabled": "true",
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "20",
}


@dataclass(frozen=True, slots=True)
class RecordMeta:
    """What a row knows of the Kafka record it came from."""

    event_id: str
    occurred_at_ms: int
    correlation_id: str | None
    topic: str
    partition: int
    offset: int


# The columns every table has, around the event's own fields.
_LEADING_COLUMNS: tuple[tuple[str, IcebergType, bool], ...] = (
    ("event_id", StringType(), True),
    ("occurred_at", TimestamptzType(), True),
    ("correlation_id", StringType(), False),
)
_TRAILING_COLUMNS: tuple[tuple[str, IcebergType, bool], ...] = (
    ("kafka_topic", StringType(), True),
    ("kafka_partition", IntegerType(), True),
    ("kafka_offset", LongType(), True),
)


def table_name(event_type: type[Event]) -> str:
    """`TweetPosted` -> `tweet_posted`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event_type.__name__).lower()


def column_name(field_name: str) -> str:
    """`created_at_ms` -> `created_at` (the column is a timestamp, not milliseconds)."""
    if field_name.endswith(MILLIS_SUFFIX):
        return field_name.removesuffix("_ms")
    return field_name


class UnsupportedFieldType(TypeError):
    """An event field whose Python type has no Iceberg column type here."""


class _FieldIds:
    """Hands out Iceberg field ids in order (pyiceberg renumbers them on table creation)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last += 1
        return self._last


_Convert = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _millis_to_micros(value: int) -> int:
    return value * 1000


def _tuple_to_list(value: tuple[Any, ...]) -> list[Any]:
    return list(value)


_PRIMITIVES: dict[type, Callable[[], IcebergType]] = {
    int: LongType,
    str: StringType,
    float: DoubleType,
    bool: BooleanType,
}


def _column_type(name: str, hint: Any, ids: _FieldIds) -> tuple[IcebergType, bool, _Convert]:
    """The Iceberg type of a field, whether it is required, and how to convert its value."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        (inner,) = [arg for arg in args if arg is not type(None)]
        iceberg_type, _, convert = _column_type(name, inner, ids)
        return iceberg_type, False, _optional(convert)
    if name.endswith(MILLIS_SUFFIX) and hint is int:
        return TimestamptzType(), True, _millis_to_micros
    if hint in _PRIMITIVES:
        return _PRIMITIVES[hint](), True, _identity
    if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        if item in _PRIMITIVES:
            element = _PRIMITIVES[item]()
            return ListType(ids.next(), element, element_required=True), True, _tuple_to_list
        if dataclasses.is_dataclass(item) and isinstance(item, type):
            element_id = ids.next()
            struct, _, to_struct = _struct_type(item, ids)
            structs = ListType(element_id, struct, element_required=True)
            return structs, True, lambda values: [to_struct(value) for value in values]
        raise UnsupportedFieldType(f"{name}: tuple of {item!r}")
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _struct_type(hint, ids)
    raise UnsupportedFieldType(f"{name}: {hint!r}")


def _struct_type(cls: type, ids: _FieldIds) -> tuple[IcebergType, bool, _Convert]:
    hints = typing.get_type_hints(cls)
    fields: list[NestedField] = []
    converters: list[tuple[str, _Convert]] = []
    for field in dataclasses.fields(cls):
        iceberg_type, required, convert = _column_type(field.name, hints[field.name], ids)
        column = column_name(field.name)
        fields.append(NestedField(ids.next(), column, iceberg_type, required=required))
        converters.append((field.name, convert))

    def to_struct(value: Any) -> dict[str, Any]:
        return {column_name(name): convert(getattr(value, name)) for name, convert in converters}

    return StructType(*fields), True, to_struct


def _optional(convert: _Convert) -> _Convert:
    def maybe(value: Any) -> Any:
        return None if value is None else convert(value)

    return maybe


@dataclass(frozen=True)
class EventTable:
    """The analytic table of one event type: schema, partitioning, and rows from events."""

    event_type: type[Event]
    name: str
    schema: Schema
    converters: tuple[tuple[str, str, _Convert], ...]  # (field, column, convert)

    @property
    def identifier(self) -> tuple[str, str]:
        return (NAMESPACE, self.name)

    @cached_property
    def partition_spec(self) -> PartitionSpec:
        source = self.schema.find_field(PARTITION_SOURCE)
        return PartitionSpec(
            PartitionField(
                source_id=source.field_id,
                field_id=PARTITION_FIELD_ID,
                transform=DayTransform(),
                name=PARTITION_NAME,
            )
        )

    @cached_property
    def arrow_schema(self) -> pa.Schema:
        return self.schema.as_arrow()

    def row(self, event: Event, meta: RecordMeta) -> dict[str, Any]:
        """The table row of one event (column -> value, Arrow-ready)."""
        row: dict[str, Any] = {
            "event_id": meta.event_id,
            "occurred_at": _millis_to_micros(meta.occurred_at_ms),
            "correlation_id": meta.correlation_id,
        }
        for field, column, convert in self.converters:
            row[column] = convert(getattr(event, field))
        row["kafka_topic"] = meta.topic
        row["kafka_partition"] = meta.partition
        row["kafka_offset"] = meta.offset
        return row

    def to_arrow(
        self, rows: Iterable[dict[str, Any]], table_schema: Schema | None = None
    ) -> pa.Table:
        """Rows as Arrow, in `table_schema` (the table's current one, if evolved) or ours."""
        schema = self.arrow_schema if table_schema is None else table_schema.as_arrow()
        return pa.Table.from_pylist(list(rows), schema=schema)

    def empty(self) -> pa.Table:
        return self.arrow_schema.empty_table()


def event_table(event_type: type[Event]) -> EventTable:
    """Derive the table of `event_type` from its dataclass fields."""
    if not dataclasses.is_dataclass(event_type):
        raise TypeError(f"{event_type!r} is not an event dataclass")
    ids = _FieldIds()
    hints = typing.get_type_hints(event_type)
    columns: list[NestedField] = [
        NestedField(ids.next(), name, iceberg_type, required=required)
        for name, iceberg_type, required in _LEADING_COLUMNS
    ]
    converters: list[tuple[str, str, _Convert]] = []
    for field in dataclasses.fields(event_type):
        if field.name in EXCLUDED_FIELDS:
            continue
        column = column_name(field.name)
        iceberg_type, required, convert = _column_type(field.name, hints[field.name], ids)
        columns.append(NestedField(ids.next(), column, iceberg_type, required=required))
        converters.append((field.name, column, convert))
    columns += [
        NestedField(ids.next(), name, iceberg_type, required=required)
        for name, iceberg_type, required in _TRAILING_COLUMNS
    ]
    # Numbered as the catalog numbers a new table's fields, so the two schemas agree.
    schema = assign_fresh_schema_ids(Schema(*columns))
    return EventTable(event_type, table_name(event_type), schema, tuple(converters))


def event_tables(event_types: Iterable[type[Event]]) -> dict[type[Event], EventTable]:
    """The table of each event type, keyed by type."""
    return {event_type: event_table(event_type) for event_type in event_types}
