"""How far each projection's serving version is behind the end of the log."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import TopicPartition

from api.services import ApiServices
from projections.registry import PROJECTION_FAMILIES
from projections.writer import decode_positions, lag


async def end_offsets(services: ApiServices, topics: Iterable[str]) -> dict[str, int]:
    """Next offset of every partition, by positions field ("topic:partition")."""
    consumer = services.offsets
    if any(consumer.partitions_for_topic(topic) is None for topic in topics):
        await consumer.topics()  # refreshes metadata for every topic
    partitions = [
        TopicPartition(topic, partition)
        for topic in sorted(topics)
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]
    offsets = await consumer.end_offsets(partitions)
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
