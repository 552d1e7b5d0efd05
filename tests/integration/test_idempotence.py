"""Applying events that were already applied leaves every read model unchanged (on a single
Redis and on a Redis Cluster)."""

from __future__ import annotations

import asyncio

from kafka import KafkaConsumer, TopicPartition

from domain.events import Event
from infra.redis_clients import SyncRedisClient
from infra.settings import Settings
from infra.wiring import event_codec, redis_factory
from projections.base import Namespace
from projections.registry import PROJECTION_FAMILIES, all_projections
from projections.writer import ProjectionWriter, read_pointers
from schemas import EventCodec, EventDecodeError
from schemas.log import LoggedEvent, Position
from tests.support.read_models import serving_namespace
from tests.support.redis_snapshot import snapshot
from tests.support.stacks import Stack


def decoded_or_none(codec: EventCodec, value: bytes) -> Event | None:
    try:
        return codec.decode(value)
    except EventDecodeError:
        return None  # dead-lettered by the worker; other tests put such records in the log


def whole_log(settings: Settings, families: tuple[str, ...]) -> list[LoggedEvent]:
    codec = event_codec(settings)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(settings.topic(family), p)
            for family in families
            for p in consumer.partitions_for_topic(settings.topic(family)) or ()
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        logged: list[LoggedEvent] = []
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for records in consumer.poll(timeout_ms=500).values():
                logged += [
                    LoggedEvent(
                        Position(r.topic, r.partition, r.offset), decoded_or_none(codec, r.value)
                    )
                    for r in records
                ]
        return logged
    finally:
        consumer.close()


def all_read_models(redis: SyncRedisClient) -> dict[str, object]:
    return {name: snapshot(redis, serving_namespace(redis, name)) for name in PROJECTION_FAMILIES}


async def reapply(settings: Settings, logged: list[LoggedEvent], *, ignore_positions: bool) -> None:
    redis = redis_factory(settings)()
    try:
        for name, projection in all_projections(settings.trend_windows()).items():
            relevant = [
                e
                for e in logged
                if e.position.topic in {settings.topic(f) for f in projection.topic_families}
            ]
            if ignore_positions:
                keys = Namespace(name, (await read_pointers(redis)).get(f"{name}:serving", 1))
                # Not a transaction: a batch's keys span hash slots (and Cluster nodes).
                async with redis.pipeline(transaction=False) as pipe:
                    for item in relevant:
                        if item.event is not None:
                            projection.apply(item.event, keys, pipe)
                    await pipe.execute()
            else:
                await ProjectionWriter(redis, [projection]).apply(relevant)
    finally:
        await redis.aclose()


def test_reapplying_the_log_changes_nothing(stack: Stack) -> None:
    client, redis_client, settings = stack.client, stack.redis, stack.settings
    authors = [client.register() for _ in range(3)]
    for i in range(10):
        for author in authors:
            client.tweet(author, f"#idempotent tweet {i}")
    client.get(f"/v1/users/{authors[-1].handle}/tweets")  # waits until everything is applied
    logged = whole_log(settings, ("users", "tweets", "follows", "likes"))
    assert len(logged) >= 33
    before = all_read_models(redis_client)

    asyncio.run(reapply(settings, logged, ignore_positions=False))
    assert all_read_models(redis_client) == before

    # Even past the position check, every command is idempotent on its own. Home timelines
    # are a cache that reads fill in: re-applied follows drop them, so they are compared by
    # what readers see rather than by the keys Redis holds.
    homes = {author.handle: client.home(author) for author in authors}
    asyncio.run(reapply(settings, logged, ignore_positions=True))
    after = all_read_models(redis_client)
    assert {k: v for k, v in after.items() if k != "home_timelines"} == {
        k: v for k, v in before.items() if k != "home_timelines"
    }
    assert {author.handle: client.home(author) for author in authors} == homes
