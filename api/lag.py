"""How far each projection's serving version is behind the end of the log, and waiting
(bounded) for one to reach it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from aiokafka import TopicPartition

from api.services import ApiServices
from projections.registry import PROJECTION_FAMILIES
from projections.writer import decode_positions, lag
from schemas.log import Position


async def end_offsets(services: ApiServices, topics: Iterable[str]) -> dict[str, int]:
    """Next offset of every partition, by positions field ("topic:partition")."""
    # The partitions come from the producer, whose `partitions_for` loads a topic's metadata
    # when it lacks it: the group-less consumer's `topics()` leaves its own metadata empty.
    producer = services.publisher.producer
    partitions = [
        TopicPartition(topic, partition)
        for topic in sorted(topics)
        for partition in sorted(await producer.partitions_for(topic))
    ]
    offsets = await services.offsets.end_offsets(partitions)
    return {f"{tp.topic}:{tp.partition}": offset for tp, offset in offsets.items()}


async def projection_lags(services: ApiServices) -> dict[str, int]:
    all_topics = {t for names in services.read_models.topics_read.values() for t in names}
    ends = await end_offsets(services, all_topics)
    spaces = await services.read_models.namespaces(*PROJECTION_FAMILIES)
    lags = {}
    for name, keys in spaces.items():
        applied = decode_positions(await services.redis.hgetall(keys.positions_key))
        topics = services.read_models.topics_read[name]
        lags[name] = lag(
            applied,
            {field: end for field, end in ends.items() if field.rpartition(":")[0] in topics},
        )
    return lags


async def caught_up_with_log(services: ApiServices, projection: str, timeout_s: float) -> bool:
    """Wait until the projection has applied every record the log held when asked; False if
    `timeout_s` ran out first (asking the broker included)."""
    deadline = time.monotonic() + timeout_s
    try:
        ends = await asyncio.wait_for(
            end_offsets(services, services.read_models.topics_read[projection]), timeout_s
        )
    except TimeoutError:
        return False
    last_records = [
        Position(topic, int(partition), end - 1)
        for field, end in ends.items()
        if end > 0
        for topic, _, partition in [field.rpartition(":")]
    ]
    return await services.read_models.wait_until_applied(
        [projection], last_records, max(0.0, deadline - time.monotonic())
    )
