"""Projection agents: one per topic family, decoding each record once for every projection.

Concurrency stays 1 (Faust's at-least-once guarantee does not hold above 1), and each batch
is one Redis transaction per family, so fan-out costs round trips per batch, not per event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import faust
from faust.types import EventT, StreamT, TopicT
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from projections.base import Projection
from projections.redis_client import RedisFactory
from projections.writer import ProjectionWriter
from schemas import EventCodec, EventDecodeError
from schemas.log import LoggedEvent, Position
from streams.dead_letters import send_to_dead_letters

log = logging.getLogger(__name__)

# Runs after a batch is applied, with each record and its decoded event (None if undecodable).
AfterBatch = Callable[[Sequence[EventT], list[LoggedEvent]], Awaitable[None]]
MAX_RETRY_DELAY_S = 5.0


async def decode_batch(
    codec: EventCodec, events: Sequence[EventT], dead_letters: TopicT
) -> list[LoggedEvent]:
    batch: list[LoggedEvent] = []
    for event in events:
        message = event.message
        position = Position(message.topic, message.partition, message.offset)
        try:
            decoded = codec.decode(message.value)
        except EventDecodeError as error:
            await send_to_dead_letters(dead_letters, event, error)
            batch.append(LoggedEvent(position, None))
        else:
            batch.append(LoggedEvent(position, decoded))
    return batch


async def apply_until_done(writer: ProjectionWriter, batch: list[LoggedEvent]) -> None:
    """Retry while Redis is unreachable: crashing would let Faust acknowledge the batch."""
    delay = 0.05
    while True:
        try:
            await writer.apply(batch)
            return
        except (RedisConnectionError, RedisTimeoutError) as error:
            log.warning("Redis unavailable (%s); retrying batch in %.2fs", error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY_S)


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
) -> None:
    async def project(stream: StreamT[bytes]) -> None:
        redis = redis_factory()
        writer = ProjectionWriter(redis, projections)
        try:
            async for events in stream.take_events(batch_size, within=batch_within_s):
                batch = await decode_batch(codec, events, dead_letters)
                await apply_until_done(writer, batch)
                if after_batch is not None:
                    await after_batch(events, batch)
        finally:
            await redis.aclose()

    app.agent(source, name=f"project-{family}", concurrency=1)(project)
