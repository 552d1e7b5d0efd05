"""The micro-batch the sink is filling: rows per table and how far each partition was read.

Pure bookkeeping, no I/O. A batch is contiguous per partition: it starts where the previous
flushed batch (or the consumer group's committed offset) ended, and `next_offsets` says where
it ends. `ConsumedPositions` remembers, across batches, the next offset expected per partition,
so a record handed out twice (e.g. after a rebalance gave a partition back) is dropped.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from infra.analytics.offsets import TopicPartitionKey


@dataclass
class PendingBatch:
    """Rows waiting for their Iceberg commit, and the Kafka offsets they will acknowledge."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    next_offsets: dict[TopicPartitionKey, int] = field(default_factory=dict)
    records: int = 0
    undecodable: int = 0
    opened_at: float | None = None  # monotonic time of the first record

    def add_row(self, table: str, row: dict[str, Any]) -> None:
        self.rows[table].append(row)
        self._consumed((row["kafka_topic"], row["kafka_partition"]), row["kafka_offset"])

    def add_skipped(self, topic: str, partition: int, offset: int) -> None:
        """A record that has no row (undecodable): acknowledged with the batch all the same."""
        self.undecodable += 1
        self._consumed((topic, partition), offset)

    def _consumed(self, key: TopicPartitionKey, offset: int) -> None:
        if self.opened_at is None:
            self.opened_at = time.monotonic()
        self.records += 1
        self.next_offsets[key] = max(self.next_offsets.get(key, 0), offset + 1)

    def age_s(self) -> float:
        return 0.0 if self.opened_at is None else time.monotonic() - self.opened_at

    def is_empty(self) -> bool:
        return self.records == 0

    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def partitions_of(self, table: str) -> list[TopicPartitionKey]:
        """The partitions `table` has rows from in this batch."""
        return sorted({(row["kafka_topic"], row["kafka_partition"]) for row in self.rows[table]})


@dataclass
class ConsumedPositions:
    """The next offset expected per partition, kept across batches."""

    next_offset: dict[TopicPartitionKey, int] = field(default_factory=dict)

    def is_new(self, topic: str, partition: int, offset: int) -> bool:
        """Whether a record was not handed out before; remembers it if so."""
        key = (topic, partition)
        if offset < self.next_offset.get(key, 0):
            return False
        self.next_offset[key] = offset + 1
        return True
