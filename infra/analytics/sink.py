"""The analytics sink: a Kafka consumer group writing every event into its Iceberg table.

Owns the consume -> micro-batch -> Iceberg commit -> Kafka commit loop and the sink's lag. It
never writes to Kafka, never touches Redis or the projections, and never crashes on a record it
cannot decode (the stream worker dead-letters those; the sink counts and skips them).

Exactly once, without duplicates or gaps, even when killed at any instruction:

1. Each table stores, in its own properties, the next offset per topic partition it holds rows
   up to (`infra.analytics.offsets`). The rows and those properties go into one Iceberg commit,
   which is a single atomic swap of the table's metadata pointer in the catalog.
2. Before appending, the sink drops the rows at or below the table's recorded offset. The
   commit carries pyiceberg's "main still points at the snapshot I read" requirement and our
   tables disable pyiceberg's automatic re-basing retry, so when another writer got there first
   the commit fails, the sink re-reads the table and filters again. Appending is therefore
   idempotent: a record is in a table at most once, whoever delivers it and however often.
3. Only after every table of the batch has committed are the Kafka offsets committed. A crash in
   between re-delivers the batch from the last committed offsets; tables that committed drop
   those rows by rule 2, tables that did not append them now. Records are consumed in order per
   partition and every batch is flushed completely before the next, so a table's recorded
   offset never runs ahead of a row it lacks: no gaps. A table without rows in a batch is not
   committed at all (its offsets lag harmlessly: it has no rows there to lose or repeat).

Dedupe by event id is not needed and not done: duplicates are ruled out per (partition, offset),
which costs one metadata read per conflicting commit, not a scan of the table.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.table import Table

from domain.events import AccountErased
from infra.analytics.batch import ConsumedPositions, PendingBatch
from infra.analytics.catalog import analytic_tables, ensure_tables, open_catalog
from infra.analytics.erasure import ERASURE_TABLE, delete_rows_of, erased_ids, without_erased
from infra.analytics.offsets import (
    TopicPartitionKey,
    offset_updates,
    recorded_offsets,
    rows_to_append,
)
from infra.analytics.tables import EventTable, RecordMeta
from infra.settings import Settings
from infra.topics import admin_client, end_offsets, event_topics
from infra.wiring import event_codec
from schemas import EventDecodeError
from schemas.envelope import HEADER_CORRELATION_ID, HEADER_EVENT_ID, HEADER_OCCURRED_AT

logger = logging.getLogger(__name__)

POLL_TIMEOUT_MS = 200
COMMIT_CONFLICT_RETRIES = 10
COMMIT_CONFLICT_BACKOFF_S = 0.05
CLIENT_ID = "chirp-analytics-sink"


class SinkError(RuntimeError):
    """The sink cannot run; the message says why."""


@dataclass
class SinkStats:
    """What a sink run did, for logs, the status file and `--once`'s summary."""

    records: int = 0  # Kafka records consumed and acknowledged
    rows: int = 0  # rows appended to Iceberg
    duplicates: int = 0  # re-delivered rows a table already held
    undecodable: int = 0
    batches: int = 0
    seconds: float = 0.0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


# --- records to rows ---------------------------------------------------------------------------


def _header(headers: Mapping[str, bytes], name: str) -> str | None:
    value = headers.get(name)
    return value.decode("utf-8", errors="replace") if value is not None else None


def record_meta(record: Any) -> RecordMeta:
    """Event id, occurred-at and Kafka coordinates of a kafka-python `ConsumerRecord`."""
    headers = dict(record.headers or ())
    event_id = _header(headers, HEADER_EVENT_ID)
    occurred = _header(headers, HEADER_OCCURRED_AT)
    return RecordMeta(
        # Every producer sets both headers; a record without them still gets a stable identity.
        event_id=event_id or f"{record.topic}/{record.partition}/{record.offset}",
        occurred_at_ms=int(occurred) if occurred and occurred.isdigit() else record.timestamp,
        correlation_id=_header(headers, HEADER_CORRELATION_ID),
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
    )


# --- Iceberg ----------------------------------------------------------------------------------


class IcebergWriter:
    """Appends a batch's rows to each table, idempotently (see the module docstring)."""

    def __init__(self, tables: Mapping[str, Table], group_id: str) -> None:
        self.tables = dict(tables)
        self.group_id = group_id

    def commit(self, batch: PendingBatch, specs: Mapping[str, EventTable]) -> tuple[int, int]:
        """Append every table's rows; (rows appended, rows already held)."""
        appended = duplicates = 0
        for name, rows in batch.rows.items():
            if not rows:
                continue
            added = self._commit_table(
                name, specs[name], rows, batch.next_offsets, batch.partitions_of(name)
            )
            appended += added
            duplicates += len(rows) - added
        return appended, duplicates

    def _commit_table(
        self,
        name: str,
        spec: EventTable,
        rows: list[dict[str, Any]],
        next_offsets: Mapping[TopicPartitionKey, int],
        partitions: list[TopicPartitionKey],
    ) -> int:
        table = self.tables[name]
        for attempt in range(COMMIT_CONFLICT_RETRIES + 1):
            recorded = recorded_offsets(table.properties)
            fresh = rows_to_append(rows, recorded)
            if not fresh:
                return 0
            try:
                with table.transaction() as transaction:
                    transaction.append(
                        spec.to_arrow(fresh, table.schema()),
                        snapshot_properties={
                            "chirp.sink.group": self.group_id,
                            "chirp.sink.rows": str(len(fresh)),
                        },
                    )
                    transaction.set_properties(offset_updates(recorded, next_offsets, partitions))
            except CommitFailedException:
                if attempt == COMMIT_CONFLICT_RETRIES:
                    raise
                logger.info("concurrent commit on %s: re-reading its offsets", name)
                time.sleep(COMMIT_CONFLICT_BACKOFF_S * (attempt + 1))
                table.refresh()
                continue
            return len(fresh)
        raise AssertionError("unreachable")


# --- the consumer loop ------------------------------------------------------------------------


class _Assignment(ConsumerRebalanceListener):  # type: ignore[misc]  # kafka-python is untyped
    """Tracks the partitions the group gave us. Runs on kafka-python's IO loop: no blocking."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.partitions: frozenset[TopicPartition] = frozenset()
        self.generation = 0  # bumped on every assignment, so the loop notices a rebalance

    def on_partitions_revoked(self, revoked: Any) -> None:
        with self._lock:
            self.partitions = self.partitions - set(revoked)

    def on_partitions_assigned(self, assigned: Any) -> None:
        with self._lock:
            self.partitions = self.partitions | set(assigned)
            self.generation += 1

    def on_partitions_lost(self, lost: Any) -> None:
        self.on_partitions_revoked(lost)


StatusCallback = Callable[[str, "SinkStats", frozenset[TopicPartition]], None]


class AnalyticsSink:
    """Consumes the event topics as group `group_id` and writes micro-batches to Iceberg."""

    def __init__(self, settings: Settings, *, on_status: StatusCallback | None = None) -> None:
        self.settings = settings
        self.analytics = settings.analytics
        self.on_status = on_status
        self.codec = event_codec(settings)
        self.specs_by_type = analytic_tables()
        self.specs = {spec.name: spec for spec in self.specs_by_type.values()}
        self.stats = SinkStats()
        self.assignment = _Assignment()
        self.positions = ConsumedPositions()
        self._batch = PendingBatch()
        self.erased: set[int] = set()  # accounts erased so far: their rows are never appended
        self._erasures: set[int] = set()  # erased in the batch being filled
        self._consumer: Any = None
        self._writer: IcebergWriter | None = None

    # Lifecycle.

    def run(self, stop: threading.Event, *, once: bool = False) -> SinkStats:
        """Consume until `stop` is set (or, with `once`, until the end offsets seen at join)."""
        catalog = open_catalog(self.analytics, self.settings.var_dir)
        self._writer = IcebergWriter(
            ensure_tables(catalog, self.specs.values()), self.analytics.group_id
        )
        self.erased = erased_ids(self._writer.tables[ERASURE_TABLE])
        self._consumer = self._connect()
        started = time.monotonic()
        try:
            self._report("joining")
            self._loop(stop, once, started)
            self._flush()
        finally:
            self.stats.seconds = time.monotonic() - started
            self._consumer.close(autocommit=False)
            self._report("stopped")
        logger.info(
            "sink stopped: records=%d rows=%d duplicates=%d undecodable=%d batches=%d "
            "in %.1fs (%.0f rows/s)",
            self.stats.records,
            self.stats.rows,
            self.stats.duplicates,
            self.stats.undecodable,
            self.stats.batches,
            self.stats.seconds,
            self.stats.rows_per_s,
        )
        return self.stats

    def _connect(self) -> Any:
        session_ms = int(self.settings.worker_session_timeout_s * 1000)
        try:
            consumer = KafkaConsumer(
                bootstrap_servers=self.settings.bootstrap_servers,
                group_id=self.analytics.group_id,
                client_id=CLIENT_ID,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=self.analytics.batch_max_events,
                # How soon a crashed sink's partitions move (kafka-python's default is 45 s).
                session_timeout_ms=session_ms,
                heartbeat_interval_ms=max(100, session_ms // 3),
                bootstrap_timeout_ms=int(self.settings.startup_timeout_s * 1000),
            )
        except KafkaError as exc:
            raise SinkError(
                f"cannot reach Kafka at {self.settings.bootstrap_servers}: {exc}"
            ) from exc
        topics = event_topics(self.settings)
        # The group's first assignment only covers topics whose metadata the client has: fetch
        # it before joining, or a fresh client may join with nothing assigned.
        for topic in topics:
            consumer.partitions_for_topic(topic)
        consumer.subscribe(topics, listener=self.assignment)
        return consumer

    def _loop(self, stop: threading.Event, once: bool, started: float) -> None:
        join_deadline = started + self.settings.startup_timeout_s
        seen_generation = 0
        drain_to: dict[TopicPartition, int] | None = None
        while not stop.is_set():
            room = max(1, self.analytics.batch_max_events - self._batch.records)
            polled = self._consumer.poll(timeout_ms=POLL_TIMEOUT_MS, max_records=room)
            if self.assignment.generation != seen_generation:
                seen_generation = self.assignment.generation
                partitions = self.assignment.partitions
                logger.info(
                    "sink ready: group %s joined, %d partitions assigned",
                    self.analytics.group_id,
                    len(partitions),
                )
                self._report("joined")
                if once:
                    drain_to = dict(self._consumer.end_offsets(list(partitions)))
            for records in polled.values():
                self._add(records)
            if self._batch_is_due():
                self._flush()
            if once:
                if drain_to is None:
                    if time.monotonic() > join_deadline:
                        raise SinkError(
                            f"consumer group {self.analytics.group_id} not joined within "
                            f"{self.settings.startup_timeout_s:.0f}s"
                        )
                elif self._drained(drain_to):
                    return

    def _drained(self, drain_to: Mapping[TopicPartition, int]) -> bool:
        assigned = self.assignment.partitions
        return all(
            self._consumer.position(tp) >= end for tp, end in drain_to.items() if tp in assigned
        )

    # Records -> batch -> Iceberg -> Kafka.

    def _add(self, records: list[Any]) -> None:
        batch = self._batch
        for record in records:
            if not self.positions.is_new(record.topic, record.partition, record.offset):
                continue  # handed out again after a rebalance: already in this or a flushed batch
            try:
                event = self.codec.decode(record.value)
            except EventDecodeError:
                batch.add_skipped(record.topic, record.partition, record.offset)
                continue
            spec = self.specs_by_type[type(event)]
            batch.add_row(spec.name, spec.row(event, record_meta(record)))
            if isinstance(event, AccountErased):
                self._erasures.add(event.user_id)

    def _batch_is_due(self) -> bool:
        batch = self._batch
        return not batch.is_empty() and (
            batch.records >= self.analytics.batch_max_events
            or batch.age_s() >= self.analytics.batch_max_seconds
        )

    def _flush(self) -> None:
        batch, self._batch = self._batch, PendingBatch()
        erasures, self._erasures = self._erasures, set()
        if batch.is_empty():
            return
        assert self._writer is not None
        started = time.monotonic()
        # An erased account's rows are not appended (its take-backs may come after the
        # erasure), and what earlier batches appended of it is deleted before the batch is
        # acknowledged: a crash in between deletes again when the batch comes back.
        self.erased |= erasures
        batch.rows = without_erased(batch.rows, self.erased)
        appended, duplicates = self._writer.commit(batch, self.specs)
        delete_rows_of(self._writer.tables, erasures)
        iceberg_s = time.monotonic() - started
        self._commit_kafka(batch.next_offsets)
        self.stats.records += batch.records
        self.stats.rows += appended
        self.stats.duplicates += duplicates
        self.stats.undecodable += batch.undecodable
        self.stats.batches += 1
        took = time.monotonic() - started
        logger.info(
            "batch records=%d rows=%d duplicates=%d undecodable=%d tables=%d "
            "iceberg=%.0fms total=%.0fms (%.0f rows/s)",
            batch.records,
            appended,
            duplicates,
            batch.undecodable,
            sum(1 for rows in batch.rows.values() if rows),
            iceberg_s * 1000,
            took * 1000,
            appended / took if took > 0 else 0.0,
        )
        self._report("joined")

    def _commit_kafka(self, next_offsets: Mapping[TopicPartitionKey, int]) -> None:
        """Acknowledge the batch. Iceberg already has it: a failure only means a re-read."""
        assigned = self.assignment.partitions
        offsets = {
            tp: OffsetAndMetadata(offset, "", -1)
            for (topic, partition), offset in next_offsets.items()
            if (tp := TopicPartition(topic, partition)) in assigned
        }
        if not offsets:
            return
        try:
            self._consumer.commit(offsets)
        except KafkaError as exc:
            logger.warning(
                "kafka offset commit failed (the batch will be re-read, not repeated): %s", exc
            )

    def _report(self, state: str) -> None:
        if self.on_status is not None:
            self.on_status(state, self.stats, self.assignment.partitions)


# --- status file and lag ----------------------------------------------------------------------


def status_file_writer(path: Path) -> StatusCallback:
    """A status callback writing `path` atomically: pid, state, partitions, counters."""
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(state: str, stats: SinkStats, partitions: frozenset[TopicPartition]) -> None:
        status = {
            "pid": os.getpid(),
            "state": state,
            "partitions": sorted(f"{tp.topic}:{tp.partition}" for tp in partitions),
            "updated_at": time.time(),
            **asdict(stats),
        }
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(status))
        temporary.replace(path)

    return write


def read_status(path: Path) -> dict[str, Any] | None:
    """The status a sink last wrote to `path`, or None."""
    try:
        status = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None


def sink_lag(settings: Settings) -> int:
    """Events in the log the sink has not acknowledged yet (its group's committed offsets).

    After a crash this may count up to one batch that is already in Iceberg (it will be
    re-read and dropped as a duplicate); it never undercounts.
    """
    analytics = settings.analytics
    ends = end_offsets(settings, event_topics(settings))
    with admin_client(settings) as admin:
        groups = admin.list_group_offsets(analytics.group_id)
    committed = {
        (tp.topic, tp.partition): max(0, found.offset)
        for tp, found in groups.get(analytics.group_id, {}).items()
    }
    return sum(max(0, end - committed.get(key, 0)) for key, end in ends.items())
