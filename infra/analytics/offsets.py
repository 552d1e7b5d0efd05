"""Which Kafka records each Iceberg table already holds: offsets kept in the table's properties.

An analytics table records, per topic partition it has rows from, the offset *after* the last
record it has accounted for, as table properties `chirp.sink.offset.<topic>.<partition>`. They
are set in the same Iceberg commit as the rows (one metadata swap), so they can never disagree
with the data. `rows_to_append` drops rows at or below what a table already holds: that makes
re-delivered records harmless. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

OFFSET_PROPERTY_PREFIX = "chirp.sink.offset."

TopicPartitionKey = tuple[str, int]


def offset_property(topic: str, partition: int) -> str:
    """The table property holding the next offset of `topic`/`partition` the table lacks."""
    return f"{OFFSET_PROPERTY_PREFIX}{topic}.{partition}"


def recorded_offsets(properties: Mapping[str, str]) -> dict[TopicPartitionKey, int]:
    """Every (topic, partition) -> next offset recorded in a table's properties."""
    found: dict[TopicPartitionKey, int] = {}
    for key, value in properties.items():
        if not key.startswith(OFFSET_PROPERTY_PREFIX):
            continue
        topic, _, partition = key.removeprefix(OFFSET_PROPERTY_PREFIX).rpartition(".")
        if topic and partition.isdigit() and value.lstrip("-").isdigit():
            found[(topic, int(partition))] = int(value)
    return found


def rows_to_append(
    rows: Iterable[dict[str, Any]], recorded: Mapping[TopicPartitionKey, int]
) -> list[dict[str, Any]]:
    """The rows a table does not hold yet: those at or after its recorded offset."""
    return [
        row
        for row in rows
        if row["kafka_offset"] >= recorded.get((row["kafka_topic"], row["kafka_partition"]), 0)
    ]


def offset_updates(
    recorded: Mapping[TopicPartitionKey, int],
    batch_next: Mapping[TopicPartitionKey, int],
    partitions: Iterable[TopicPartitionKey],
) -> dict[str, str]:
    """Properties that advance a table to the batch's end on `partitions`; never backwards."""
    updates: dict[str, str] = {}
    for topic, partition in partitions:
        nxt = batch_next[(topic, partition)]
        if nxt > recorded.get((topic, partition), 0):
            updates[offset_property(topic, partition)] = str(nxt)
    return updates
