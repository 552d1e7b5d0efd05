"""Rebuilding a projection from offset 0 into a new version while the old one serves.

1. Point `building` at version n+1 (dropping what a crashed earlier rebuild left behind).
2. Read the projection's topics from the beginning and apply every event to n+1; the live
   worker starts feeding n+1 too, partition by partition, as soon as the rebuild has caught
   up with it there (see `projections.writer`).
3. Once n+1 has everything the log held when the rebuild started and everything n has,
   flip `serving` to n+1 and clear `building` in one transaction, wait out a grace period
   for reads that resolved the old pointer, then drop version n.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

from infra.log_reader import LogReader, LogRecord
from infra.settings import Settings
from infra.wiring import event_codec, redis_factory
from projections.base import (
    POINTERS_KEY,
    Namespace,
    Projection,
    building_field,
)
from projections.redis_client import RedisClient
from projections.registry import all_projections
from projections.writer import (
    ProjectionWriter,
    decode_positions,
    flip_serving,
    lag,
    serving_version,
)
from schemas import EventDecodeError
from schemas.log import LoggedEvent, Position

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (events done, events in the log at the start)

MAX_POLL_RECORDS = 5000
READ_BATCH = 10_000  # records per write to the new version
READ_TIMEOUT_S = 0.2
DROP_BATCH = 1000


@dataclass(frozen=True, slots=True)
class ReplayResult:
    projection: str
    old_version: int
    new_version: int
    events: int
    seconds: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class ProjectionStatus:
    projection: str
    serving: int
    building: int | None
    positions: dict[str, int]
    lag: int


def projection_topics(settings: Settings, projection: Projection) -> list[str]:
    return [settings.topic(family) for family in projection.topic_families]


def open_consumer(settings: Settings) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=MAX_POLL_RECORDS,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )


def topic_partitions(consumer: KafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    return [
        TopicPartition(topic, partition)
        for topic in topics
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]


async def drop_version(redis: RedisClient, keys: Namespace) -> int:
    """Unlink every key of one version, found by a SCAN of every node of a cluster."""
    dropped = 0
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=keys.pattern, count=DROP_BATCH):
        batch.append(key)
        if len(batch) >= DROP_BATCH:
            dropped += await _unlink(redis, batch)
            batch.clear()
    if batch:
        dropped += await _unlink(redis, batch)
    return dropped


async def _unlink(redis: RedisClient, keys: list[bytes]) -> int:
    """One UNLINK per key: the keys of a version span hash slots."""
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            # Not `pipe.unlink`: on redis-py's asyncio ClusterPipeline that is a coroutine
            # which queues nothing unless awaited.
            pipe.execute_command("UNLINK", key)
        return sum(await pipe.execute())


class Rebuild:
    """One rebuild of one projection; `run` drives it to the flip."""

    def __init__(
        self, settings: Settings, redis: RedisClient, projection: Projection, progress: Progress
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.projection = projection
        self.progress = progress
        self.codec = event_codec(settings)
        self.writer = ProjectionWriter(redis, [projection])

    async def run(self, *, drop_grace_s: float) -> ReplayResult:
        started = time.monotonic()
        name = self.projection.name
        old_version = await serving_version(self.redis, name)
        new_version = await self._start_building(old_version)
        reader = await asyncio.to_thread(
            LogReader,
            self.settings.bootstrap_servers,
            projection_topics(self.settings, self.projection),
        )
        try:
            log_end = reader.log_end
            total = sum(log_end.values())
            done = 0
            self.progress(done, total)
            while not await self._caught_up(new_version, old_version, log_end):
                records = await asyncio.to_thread(reader.read, READ_BATCH, READ_TIMEOUT_S)
                await self.writer.apply_to_building([self._logged(r) for r in records])
                done += len(records)
                self.progress(min(done, max(total, done)), max(total, done))
        finally:
            reader.close()
        await self._flip(new_version)
        await asyncio.sleep(drop_grace_s)
        await drop_version(self.redis, Namespace(name, old_version))
        return ReplayResult(name, old_version, new_version, done, time.monotonic() - started)

    def _logged(self, record: LogRecord) -> LoggedEvent:
        position = Position(record.topic, record.partition, record.offset)
        try:
            return LoggedEvent(position, self.codec.decode(record.value))
        except EventDecodeError:
            return LoggedEvent(position, None)  # the live worker dead-lettered it already

    async def _start_building(self, serving: int) -> int:
        name = self.projection.name
        leftover = await self.redis.hget(POINTERS_KEY, building_field(name))
        if leftover is not None:
            log.warning("dropping version %s of %s left by an unfinished rebuild", leftover, name)
            await drop_version(self.redis, Namespace(name, int(leftover)))
        new_version = max(serving, int(leftover or 0)) + 1
        await self.redis.hset(POINTERS_KEY, building_field(name), new_version)
        return new_version

    async def _caught_up(self, building: int, serving: int, log_end: dict[str, int]) -> bool:
        name = self.projection.name
        built = decode_positions(await self.redis.hgetall(Namespace(name, building).positions_key))
        live = decode_positions(await self.redis.hgetall(Namespace(name, serving).positions_key))
        has_log = all(built.get(field, -1) >= end - 1 for field, end in log_end.items())
        has_live = all(built.get(field, -1) >= offset for field, offset in live.items())
        return has_log and has_live

    async def _flip(self, new_version: int) -> None:
        name = self.projection.name
        await flip_serving(self.redis, name, new_version)


async def replay(
    settings: Settings, projection_name: str, progress: Progress, *, drop_grace_s: float = 1.0
) -> ReplayResult:
    redis = redis_factory(settings)()
    try:
        projection = all_projections(settings.trend_windows())[projection_name]
        rebuild = Rebuild(settings, redis, projection, progress)
        return await rebuild.run(drop_grace_s=drop_grace_s)
    finally:
        await redis.aclose()


async def projection_statuses(settings: Settings) -> list[ProjectionStatus]:
    redis = redis_factory(settings)()
    consumer = open_consumer(settings)
    try:
        statuses = []
        for name, projection in all_projections(settings.trend_windows()).items():
            partitions = topic_partitions(consumer, projection_topics(settings, projection))
            ends = consumer.end_offsets(partitions)
            serving = await serving_version(redis, name)
            building = await redis.hget(POINTERS_KEY, building_field(name))
            positions = decode_positions(
                await redis.hgetall(Namespace(name, serving).positions_key)
            )
            log_end = {f"{tp.topic}:{tp.partition}": end for tp, end in ends.items()}
            statuses.append(
                ProjectionStatus(
                    name,
                    serving,
                    int(building) if building else None,
                    positions,
                    lag(positions, log_end),
                )
            )
        return statuses
    finally:
        consumer.close()
        await redis.aclose()
