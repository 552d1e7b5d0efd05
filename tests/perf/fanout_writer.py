"""The worker's fan-out code path alone, on one Redis and on a 3-master Redis Cluster.

No Kafka, no Faust: `ProjectionWriter` with `HomeTimelinesProjection` and a fixed follower
directory applies batches of `TweetPosted` events, as the worker's tweets agent does after
decoding. Every recipient's home timeline exists beforehand, so every push lands; afterwards
the stored entries are counted, so a run in which pushes went nowhere fails instead of
reporting a rate. Both deployments run the same redis-server binary with the same settings,
started here under their own data directories; one runs at a time.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from domain.events import TweetPosted
from domain.ids import IdGenerator
from infra.local_services import RedisCluster, RedisServer, free_cluster_ports
from infra.redis_clients import AsyncRedisClient, open_redis
from infra.settings import Settings
from projections.base import Namespace
from projections.entries import TimelineEntry
from projections.home_timelines import HomeKeys, HomeTimelinesProjection
from projections.lua import load_scripts
from projections.writer import ProjectionWriter
from schemas.log import LoggedEvent, Position

TWEETS_TOPIC = "chirp.tweets"
PARTITIONS = 8
MAX_CONNECTIONS = 16
SETUP_CHUNK = 2000  # commands per pipeline while preparing or counting timelines


@dataclass(frozen=True, slots=True)
class FanoutShape:
    authors: int = 200
    followers_per_author: int = 1000
    follower_pool: int = 20_000  # each follower follows authors * followers / pool on average
    tweets: int = 1000
    tweets_per_batch: int = 20
    seed: int = 2027


@dataclass(frozen=True, slots=True)
class FanoutRun:
    deliveries: int
    seconds: float

    @property
    def deliveries_per_s(self) -> float:
        return self.deliveries / self.seconds


class FixedDirectory:
    """A follower directory that never changes: the worker's edge table, without the table."""

    def __init__(self, followers: dict[int, list[int]]) -> None:
        self.followers = followers

    def followers_of(self, user_id: int) -> list[int] | None:
        return self.followers.get(user_id, [])

    def every_follower_of(self, user_id: int) -> list[int]:
        return self.followers.get(user_id, [])


@dataclass(frozen=True, slots=True)
class Audience:
    authors: list[int]
    directory: FixedDirectory

    @property
    def recipients(self) -> list[int]:
        """Everyone a push can reach: the followers and the authors themselves."""
        fans = {fan for fans in self.directory.followers.values() for fan in fans}
        return sorted(fans | set(self.authors))


def make_audience(shape: FanoutShape, ids: IdGenerator) -> Audience:
    rng = random.Random(shape.seed)
    authors = [ids.next_id() for _ in range(shape.authors)]
    pool = [ids.next_id() for _ in range(shape.follower_pool)]
    followers = {author: rng.sample(pool, shape.followers_per_author) for author in authors}
    return Audience(authors, FixedDirectory(followers))


def tweet_batches(
    shape: FanoutShape, audience: Audience, ids: IdGenerator
) -> list[list[LoggedEvent]]:
    """The tweets as the log would hand them over: positions increasing per partition."""
    rng = random.Random(shape.seed + 1)
    offsets = [0] * PARTITIONS
    events = []
    for _ in range(shape.tweets):
        author_index = rng.randrange(len(audience.authors))
        partition = author_index % PARTITIONS
        tweet = TweetPosted(ids.next_id(), audience.authors[author_index], "fan me out", 0)
        events.append(LoggedEvent(Position(TWEETS_TOPIC, partition, offsets[partition]), tweet))
        offsets[partition] += 1
    size = shape.tweets_per_batch
    return [events[start : start + size] for start in range(0, len(events), size)]


def deliveries_per_recipient(
    batches: Sequence[Sequence[LoggedEvent]], audience: Audience
) -> Counter[int]:
    """How many entries each recipient is sent: one per tweet of each author it follows, and
    the authors one per own tweet."""
    followers = audience.directory.followers
    sent: Counter[int] = Counter()
    for batch in batches:
        for logged in batch:
            if isinstance(logged.event, TweetPosted):
                author = logged.event.author_id
                sent.update([author, *followers[author]])
    return sent


async def create_timelines(redis: AsyncRedisClient, home: HomeKeys, users: list[int]) -> None:
    """One entry in every recipient's home timeline: an existing timeline gets pushes."""
    placeholder = TimelineEntry.tweet(1, 1).member  # older than every benchmark tweet
    for start in range(0, len(users), SETUP_CHUNK):
        async with redis.pipeline(transaction=False) as pipe:
            for user in users[start : start + SETUP_CHUNK]:
                pipe.zadd(home.home(user), {placeholder: 0})
            await pipe.execute()


async def stored_entries(redis: AsyncRedisClient, home: HomeKeys, users: list[int]) -> int:
    total = 0
    for start in range(0, len(users), SETUP_CHUNK):
        async with redis.pipeline(transaction=False) as pipe:
            for user in users[start : start + SETUP_CHUNK]:
                pipe.zcard(home.home(user))
            total += sum(await pipe.execute())
    return total


async def measure(redis: AsyncRedisClient, shape: FanoutShape) -> FanoutRun:
    """Apply every batch through the writer, one after the other, as the tweets agent does."""
    ids = IdGenerator(node_id=1002)
    audience = make_audience(shape, ids)
    batches = tweet_batches(shape, audience, ids)
    projection = HomeTimelinesProjection(audience.directory)
    home = HomeKeys(Namespace(projection.name, 1), projection.shards)
    recipients = audience.recipients
    await create_timelines(redis, home, recipients)
    await load_scripts(redis)
    writer = ProjectionWriter(redis, [projection])
    started = time.monotonic()
    for batch in batches:
        await writer.apply(batch)
    seconds = time.monotonic() - started
    sent = deliveries_per_recipient(batches, audience)
    deliveries = sum(sent.values())
    # Each timeline keeps its placeholder and what it was sent, up to the cap.
    expected = sum(min(projection.cap, 1 + sent[user]) for user in recipients)
    stored = await stored_entries(redis, home, recipients)
    if stored != expected:
        raise RuntimeError(f"fan-out left {stored:,} timeline entries, expected {expected:,}")
    return FanoutRun(deliveries, seconds)


async def measure_with_client(
    shape: FanoutShape, *, dsn: str = "", cluster_nodes: Sequence[tuple[str, int]] = ()
) -> FanoutRun:
    redis = open_redis(dsn=dsn, cluster_nodes=cluster_nodes, max_connections=MAX_CONNECTIONS)
    try:
        return await measure(redis, shape)
    finally:
        await redis.aclose()


@contextmanager
def single_redis(settings: Settings, data_dir: Path) -> Iterator[str]:
    """A fresh redis-server; yields its DSN."""
    shutil.rmtree(data_dir, ignore_errors=True)
    server = RedisServer(settings, data_dir)
    try:
        server.start()
        server.wait_ready(timeout=60)
        yield f"redis://127.0.0.1:{server.port}/0"
    finally:
        server.stop()


@contextmanager
def redis_cluster(settings: Settings, data_dir: Path) -> Iterator[tuple[tuple[str, int], ...]]:
    """A fresh 3-master Redis Cluster; yields its nodes."""
    shutil.rmtree(data_dir, ignore_errors=True)
    cluster = RedisCluster(settings, ports=free_cluster_ports(3), data_dir=data_dir)
    try:
        cluster.start()
        cluster.wait_ready(timeout=120)
        yield cluster.addresses
    finally:
        cluster.stop()


def single_and_cluster(settings: Settings, shape: FanoutShape) -> tuple[FanoutRun, FanoutRun]:
    """The same fan-out against a single Redis, then against a 3-master Redis Cluster."""
    with single_redis(settings, settings.var_dir / "fanout-single") as dsn:
        single = asyncio.run(measure_with_client(shape, dsn=dsn))
    with redis_cluster(settings, settings.var_dir / "fanout-cluster") as nodes:
        cluster = asyncio.run(measure_with_client(shape, cluster_nodes=nodes))
    return single, cluster
