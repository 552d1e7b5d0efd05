"""Projection agents: one per topic family, decoding each record once for every projection.

Concurrency stays 1 (Faust's at-least-once guarantee does not hold above 1), and each batch
is one Redis transaction per family, so fan-out costs round trips per batch, not per event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

import faust
from aiokafka.errors import IllegalStateError
from faust.types import TP, EventT, StreamT, TopicT
from faust.types.transports import ConsumerT

from projections.base import Projection
from projections.redis_client import REDIS_UNAVAILABLE, RedisFactory
from projections.writer import Positions, ProjectionWriter
from schemas import EventCodec, EventDecodeError
from schemas.envelope import HEADER_CORRELATION_ID
from schemas.log import LoggedEvent, Position
from streams.dead_letters import send_to_dead_letters
from streams.metrics import WorkerMetrics

log = logging.getLogger(__name__)

# Runs after a batch is applied, with each record and its decoded event (None if undecodable).
AfterBatch = Callable[[Sequence[EventT], list[LoggedEvent]], Awaitable[None]]
MAX_RETRY_DELAY_S = 5.0
IDLE_BEFORE_CHECK_S = 2.0  # no batch for this long: every fetched event has been applied
RESUME_CHECK_INTERVAL_S = 5.0
POSITION_WAIT_S = 2.0


async def decode_batch(
    codec: EventCodec,
    events: Sequence[EventT],
    dead_letters: TopicT,
    metrics: WorkerMetrics | None = None,
) -> list[LoggedEvent]:
    batch: list[LoggedEvent] = []
    for event in events:
        message = event.message
        position = Position(message.topic, message.partition, message.offset)
        try:
            decoded = codec.decode(message.value)
        except EventDecodeError as error:
            await send_to_dead_letters(dead_letters, event, error)
            if metrics is not None:
                metrics.dead_letters.labels(message.topic).inc()
            batch.append(LoggedEvent(position, None))
        else:
            batch.append(LoggedEvent(position, decoded))
    return batch


class Rewinds:
    """Partitions read again from where their projections' stored positions end.

    The positions in Redis, not the consumer group's committed offsets, say where a partition
    resumes: when the writer holds a partition back (its projections need earlier events),
    the agent seeks there. Records fetched before the seek arrive first and are held back
    again (each such batch seeks again, which is idempotent), so the partition resumes exactly
    where it must even when a rebalance seeks it to the committed offset meanwhile. A batch
    whose records of a partition jump ahead in the middle (fetched before and after a seek) is
    held back the same way, never applied past the hole. The log's
    offsets are contiguous (idempotent, non-transactional producers; no compaction), so a
    partition held back is always read again from the offset it needs.
    """

    def __init__(self) -> None:
        self.last_batch_at = time.monotonic()
        self.applying = False

    def arrived(self) -> None:
        """A batch arrived: until `done`, what was fetched is still being applied."""
        self.last_batch_at = time.monotonic()
        self.applying = True

    def done(self) -> None:
        self.last_batch_at = time.monotonic()
        self.applying = False

    def idle(self) -> bool:
        """No batch in hand and none for `IDLE_BEFORE_CHECK_S`. A batch that takes longer
        than that to apply (a fan-out to millions of timelines) is not idleness: its
        positions move only once it is written."""
        return not self.applying and time.monotonic() - self.last_batch_at >= IDLE_BEFORE_CHECK_S

    async def seek_back(self, consumer: ConsumerT, gaps: Positions) -> None:
        for field, offset in gaps.items():
            await self._seek(consumer, field, offset)

    async def check_idle(
        self, consumer: ConsumerT, writer: ProjectionWriter, partitions: Iterable[TP]
    ) -> None:
        """While no event arrives, what was fetched has been applied: a partition whose
        projections need an offset below the fetch position lost data (a Redis restarted
        from an older snapshot, or wiped), and is read again from there."""
        if not self.idle():
            return
        fetched = {}
        for tp in partitions:
            try:
                # Bounded: a position not known yet waits for an offset lookup that may retry
                # for as long as the consumer's metadata is stale; the next check asks again.
                position = await asyncio.wait_for(consumer.position(tp), POSITION_WAIT_S)
            except IllegalStateError:  # revoked by a rebalance since the list was taken
                continue
            except TimeoutError:
                continue
            if position is not None:
                fetched[Position(tp.topic, tp.partition, 0).field] = position
        needed = await writer.resume_points(fetched)
        for field, position in fetched.items():
            if needed[field] < position and self.idle():
                await self._seek(consumer, field, needed[field])

    async def _seek(self, consumer: ConsumerT, field: str, offset: int) -> None:
        topic, _, partition = field.rpartition(":")
        log.warning("%s: projections need offset %d; reading again from there", field, offset)
        await consumer.seek(TP(topic, int(partition)), offset)


async def apply_until_done(writer: ProjectionWriter, batch: list[LoggedEvent]) -> Positions:
    """Retry while Redis is unreachable: crashing would let Faust acknowledge the batch."""
    delay = 0.05
    while True:
        try:
            return await writer.apply(batch)
        except REDIS_UNAVAILABLE as error:
            log.warning("Redis unavailable (%s); retrying batch in %.2fs", error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY_S)


MAX_LOGGED_CORRELATION_IDS = 50


def correlation_id_of(event: EventT) -> str | None:
    headers = event.message.headers or ()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in pairs:
        if name == HEADER_CORRELATION_ID:
            return value.decode() if isinstance(value, bytes) else str(value)
    return None


def log_batch(family: str, events: Sequence[EventT], gaps: Positions, started: float) -> None:
    """One line per applied batch naming the requests it came from (their correlation ids),
    and at debug level one line per event."""
    applied = [e for e in events if position_field(e) not in gaps]
    if not applied or not log.isEnabledFor(logging.INFO):
        return
    ids = [correlation_id_of(event) for event in applied]
    if log.isEnabledFor(logging.DEBUG):
        for event, correlation_id in zip(applied, ids, strict=True):
            log.debug(
                "event applied",
                extra={"correlation_id": correlation_id, "position": position_field(event)},
            )
    unique = list(dict.fromkeys(i for i in ids if i is not None))
    log.info(
        "batch applied",
        extra={
            "family": family,
            "events": len(applied),
            "held_back": len(events) - len(applied),
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "correlation_ids": unique[:MAX_LOGGED_CORRELATION_IDS],
        },
    )


def position_field(event: EventT) -> str:
    message = event.message
    return Position(message.topic, message.partition, message.offset).field


def record_batch(
    metrics: WorkerMetrics,
    family: str,
    projections: Sequence[Projection],
    batch: list[LoggedEvent],
    gaps: Positions,
    started: float,
) -> None:
    metrics.batch_seconds.labels(family).observe(time.perf_counter() - started)
    applied = sum(1 for event in batch if event.position.field not in gaps)
    for projection in projections:
        metrics.events_applied.labels(projection.name).inc(applied)


def register_projection_agent(
    app: faust.App,
    *,
    family: str,
    source: TopicT,
    dead_letters: TopicT,
    projections: Sequence[Projection],
    codec: EventCodec,
    redis_factory: RedisFactory,
    batch_size: int,
    batch_within_s: float,
    after_batch: AfterBatch | None = None,
    metrics: WorkerMetrics | None = None,
) -> None:
    rewinds = Rewinds()

    async def project(stream: StreamT[bytes]) -> None:
        redis = redis_factory()
        writer = ProjectionWriter(redis, projections)
        try:
            async for events in stream.take_events(batch_size, within=batch_within_s):
                rewinds.arrived()
                try:
                    batch = await decode_batch(codec, events, dead_letters, metrics)
                    started = time.perf_counter()
                    gaps = await apply_until_done(writer, batch)
                    if metrics is not None:
                        record_batch(metrics, family, projections, batch, gaps, started)
                    log_batch(family, events, gaps, started)
                    await rewinds.seek_back(app.consumer, gaps)
                    if after_batch is not None:
                        applied = [i for i, e in enumerate(batch) if e.position.field not in gaps]
                        await after_batch([events[i] for i in applied], [batch[i] for i in applied])
                finally:
                    rewinds.done()
        finally:
            await redis.aclose()

    app.agent(source, name=f"project-{family}", concurrency=1)(project)

    async def check_resume_points() -> None:
        topics = set(source.topics)
        partitions = [tp for tp in app.assignor.assigned_actives() if tp.topic in topics]
        if not partitions:
            return
        redis = redis_factory()
        try:
            await rewinds.check_idle(app.consumer, ProjectionWriter(redis, projections), partitions)
        except REDIS_UNAVAILABLE as error:
            log.warning("Redis unavailable (%s); resume points not checked", error)
        finally:
            await redis.aclose()

    app.timer(RESUME_CHECK_INTERVAL_S, name=f"resume-points-{family}")(check_resume_points)
