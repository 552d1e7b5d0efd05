"""The search indexer (`chirp indexer`): the one process that writes the tweet search index.

It reads every partition of `chirp.tweets` with a plain consumer (explicit assignment, no
group), starting after the positions the serving index's last commit holds, and commits the
index at most every `COMMIT_EVERY_S` while records arrive: a tweet is searchable about that
long after it is in the log. A rebuild (`chirp replay search`) fills a new version beside the
serving one and moves the pointer; the indexer notices, releases the old version's writer,
takes the new one's and resumes from its positions, then deletes the older directories.

Also `replay_search`: the rebuild itself, reading the log from offset 0 into the new version.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from domain.search import index_changes
from infra.log_reader import LogReader, LogRecord
from infra.replay import ReplayResult
from infra.settings import Settings
from infra.wiring import event_codec
from projections.search_index import IndexVersions, TweetIndexReader, TweetIndexWriter
from schemas import EventCodec, EventDecodeError
from schemas.log import Position

log = logging.getLogger(__name__)

SEARCH_INDEX = "search"  # its name for `chirp replay`
COMMIT_EVERY_S = 0.1  # how long an applied record may wait to become searchable
POLL_TIMEOUT_S = 0.05
POLL_RECORDS = 2000
POINTER_CHECK_EVERY_S = 0.2
LOCK_RETRY_S = 0.2
RETRY_S = 1.0
METADATA_TIMEOUT_S = 30.0
REPLAY_BATCH = 10_000
REPLAY_COMMIT_EVERY = 50_000  # records between the rebuild's intermediate commits


def apply_records(writer: TweetIndexWriter, codec: EventCodec, records: list[LogRecord]) -> None:
    """Queue each record's index changes; an undecodable one only moves the position (the
    worker dead-letters it)."""
    for record in records:
        position = Position(record.topic, record.partition, record.offset)
        try:
            event = codec.decode(record.value)
        except EventDecodeError:
            writer.apply(position, ())
            continue
        writer.apply(position, index_changes(event))


class Indexer:
    """Keeps the serving version of the index at the end of `chirp.tweets` until stopped."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = settings.topic("tweets")
        self.versions = IndexVersions(settings.search_index_dir)
        self.codec = event_codec(settings)

    def run(self, stop: threading.Event) -> None:
        if self.versions.current() is None:
            self.versions.point_to(self.versions.next_version())
        while not stop.is_set():
            version = self.versions.current()
            assert version is not None
            writer = self._take_writer(version, stop)
            if writer is None:
                return
            self.versions.drop_older_than(version)
            log.info("indexing %s into version %s from %s", self.topic, version, writer.positions)
            try:
                self._follow(writer, version, stop)
            except KafkaException as error:  # resume from the committed positions
                log.warning("reading %s failed (%s); resuming in %ss", self.topic, error, RETRY_S)
                stop.wait(RETRY_S)
            finally:
                writer.close()

    def _take_writer(self, version: int, stop: threading.Event) -> TweetIndexWriter | None:
        """The version's writer, once a rebuild that just made it has let go of its lock."""
        while not stop.is_set():
            try:
                return TweetIndexWriter(self.versions.path(version))
            except ValueError as error:  # LockBusy
                log.info("waiting for the writer lock of version %s: %s", version, error)
                stop.wait(LOCK_RETRY_S)
        return None

    def _follow(self, writer: TweetIndexWriter, version: int, stop: threading.Event) -> None:
        consumer = self._consumer(writer.positions)
        try:
            committed_at = checked_at = time.monotonic()
            while not stop.is_set():
                records = _consume(consumer, POLL_RECORDS, POLL_TIMEOUT_S)
                apply_records(writer, self.codec, records)
                now = time.monotonic()
                if writer.pending and (now - committed_at >= COMMIT_EVERY_S or not records):
                    writer.commit()
                    committed_at = now
                if now - checked_at >= POINTER_CHECK_EVERY_S:
                    checked_at = now
                    if self.versions.current() != version:
                        log.info("version %s no longer serves: switching", version)
                        return
        finally:
            consumer.close()

    def _consumer(self, positions: dict[str, int]) -> Consumer:
        consumer = Consumer(
            {
                "bootstrap.servers": self.settings.bootstrap_servers,
                "group.id": "chirp-indexer",  # required by the client; never joined or committed
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                "fetch.wait.max.ms": 20,
            }
        )
        metadata = consumer.list_topics(self.topic, timeout=METADATA_TIMEOUT_S)
        partitions = sorted(metadata.topics[self.topic].partitions)
        # After the last committed position, or from the start of a partition never read.
        starts = {p: positions.get(f"{self.topic}:{p}", -1) for p in partitions}
        consumer.assign(
            [
                TopicPartition(self.topic, p, OFFSET_BEGINNING if at < 0 else at + 1)
                for p, at in starts.items()
            ]
        )
        return consumer


def _consume(consumer: Consumer, max_records: int, timeout_s: float) -> list[LogRecord]:
    records = []
    for message in consumer.consume(num_messages=max_records, timeout=timeout_s):
        error = message.error()
        if error is not None:
            raise KafkaException(error)
        records.append(
            LogRecord(message.topic(), message.partition(), message.offset(), message.value())
        )
    return records


def replay_search(settings: Settings, progress: Callable[[int, int], None]) -> ReplayResult:
    """Rebuild the index from offset 0 into a new version while the old one serves, then
    point readers (and the indexer) at it. The indexer deletes the old directory once it has
    moved over."""
    started = time.monotonic()
    topic = settings.topic("tweets")
    versions = IndexVersions(settings.search_index_dir)
    old_version = versions.current() or 0
    for leftover in versions.versions():  # an unfinished earlier rebuild
        if leftover > old_version:
            log.warning("dropping version %s of search left by an unfinished rebuild", leftover)
            shutil.rmtree(versions.path(leftover), ignore_errors=True)
    new_version = versions.next_version()
    serving = TweetIndexReader(settings.search_index_dir)
    writer = TweetIndexWriter(versions.path(new_version))
    codec = event_codec(settings)
    reader = LogReader(settings.bootstrap_servers, [topic])
    done = 0
    try:
        total = sum(reader.log_end.values())
        progress(0, total)
        since_commit = 0
        while not _caught_up(writer, reader.log_end, serving.positions(force=True)):
            records = reader.read(REPLAY_BATCH, 0.2)
            apply_records(writer, codec, records)
            done += len(records)
            since_commit += len(records)
            if since_commit >= REPLAY_COMMIT_EVERY:
                writer.commit()
                since_commit = 0
            progress(done, max(total, done))
    finally:
        reader.close()
        writer.close()
    versions.point_to(new_version)
    seconds = time.monotonic() - started
    return ReplayResult(SEARCH_INDEX, old_version, new_version, done, seconds)


def _caught_up(writer: TweetIndexWriter, log_end: dict[str, int], live: dict[str, int]) -> bool:
    """Everything the log held at the start, and everything the serving version has."""
    built = writer.positions
    has_log = all(built.get(field, -1) >= end - 1 for field, end in log_end.items() if end > 0)
    has_live = all(built.get(field, -1) >= offset for field, offset in live.items())
    return has_log and has_live
