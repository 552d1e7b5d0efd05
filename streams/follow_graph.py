"""The worker's follow graph: a RocksDB table with one key per edge, partitioned by followee.

`chirp.follows` is keyed by follower. The follows projection agent forwards each follow event
to `chirp.follows.by-followee`, keyed by followee, which has the partition count of
`chirp.tweets` and the same key bytes, so an author's followers live in the same partition
(on the same worker) as the author's tweets. The fan-out reads them with a prefix scan of the
local RocksDB partition: no network hop, and a celebrity's follower set is never one value.

Edge key: fixed-width followee id + fixed-width follower id (38 ASCII bytes).

The home-timelines projection's celebrity sets are derived from this table, not from the log,
so a Redis that lost them cannot replay them: `CelebritySets` recomputes a partition's from the
table when its mark in Redis is missing or behind what the table holds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

import faust
from aiokafka.partitioner import murmur2
from faust.types import TP, EventT, StreamT, TopicT

from domain.events import UserFollowed, UserUnfollowed
from domain.ids import ID_DIGITS, sortable_id
from projections.home_timelines import after_follows, celebrity_marks, restore_celebrities
from projections.redis_client import REDIS_UNAVAILABLE, RedisFactory
from schemas import EventCodec, EventDecodeError
from schemas.envelope import record_key
from schemas.log import LoggedEvent, Position
from streams.agents import IDLE_BEFORE_CHECK_S, RESUME_CHECK_INTERVAL_S, AfterBatch

log = logging.getLogger(__name__)

EDGE_PRESENT = b"1"
EDGE_KEY_BYTES = 2 * ID_DIGITS


def edge_key(followee_id: int, follower_id: int) -> bytes:
    return (sortable_id(followee_id) + sortable_id(follower_id)).encode()


def partition_for(key: bytes, partitions: int) -> int:
    """Kafka's default partitioner (murmur2), as every producer of the log uses it."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


class TableFollowerDirectory:
    """Followers of an author from the local RocksDB partition that holds them."""

    def __init__(self, table: faust.Table, partitions: int, celebrity_threshold: int) -> None:
        self.table = table
        self.partitions = partitions
        self.celebrity_threshold = celebrity_threshold

    def followers_of(self, user_id: int) -> list[int] | None:
        followers = list(islice(self._followers(user_id), self.celebrity_threshold + 1))
        if len(followers) > self.celebrity_threshold:
            return None  # merged at read time instead of pushed
        return followers

    def follower_count(self, user_id: int) -> int:
        """The number of followers, exact up to one above the celebrity threshold."""
        return sum(1 for _ in islice(self._followers(user_id), self.celebrity_threshold + 1))

    def every_follower_of(self, user_id: int) -> list[int]:
        return list(self._followers(user_id))

    def partition_of(self, user_id: int) -> int:
        """The table partition (and partition of the tweets topic) holding the user's edges."""
        return partition_for(record_key(user_id), self.partitions)

    def celebrities_in(self, partition: int) -> Iterator[tuple[int, list[int]]]:
        """Each user of a local partition above the celebrity threshold, with every follower:
        one pass over the partition's edges (sorted by followee)."""
        db: Any = self.table.data._db_for_partition(partition)
        followee: int | None = None
        followers: list[int] = []
        for key in db.keys(backwards=False):
            if len(key) != EDGE_KEY_BYTES or not key.isdigit():
                continue  # Faust's own bookkeeping (the partition's offset), not an edge
            edge_followee, follower = int(key[:ID_DIGITS]), int(key[ID_DIGITS:])
            if edge_followee != followee:
                if followee is not None and len(followers) > self.celebrity_threshold:
                    yield followee, followers
                followee, followers = edge_followee, []
            followers.append(follower)
        if followee is not None and len(followers) > self.celebrity_threshold:
            yield followee, followers

    def _followers(self, user_id: int) -> Iterator[int]:
        """A prefix scan of the user's edges in the local partition that holds them."""
        db: Any = self.table.data._db_for_partition(self.partition_of(user_id))
        prefix = sortable_id(user_id).encode()
        for key in db.keys(from_key=prefix):
            if not key.startswith(prefix):
                return
            yield int(key[ID_DIGITS:])


class FollowerCounts:
    """How many followers each followee has, as far as the local edge table knows.

    Counted once by a prefix scan (capped just above the celebrity threshold: beyond it the
    exact number does not matter), then kept up to date from the edges this worker records,
    so a follow batch never rescans a popular user's followers. Forgotten whenever the
    worker's partitions change: another worker may have recorded edges meanwhile.
    """

    def __init__(self, directory: TableFollowerDirectory) -> None:
        self.directory = directory
        self.counts: dict[int, int] = {}
        self.assignment: frozenset[Any] = frozenset()

    def forget_if_moved(self, assignment: Iterable[Any]) -> None:
        current = frozenset(assignment)
        if current != self.assignment:
            self.counts.clear()
            self.assignment = current

    def changed(self, followee: int, delta: int) -> None:
        """After the edge table changed by `delta` followers of `followee`."""
        if followee in self.counts:
            self.counts[followee] += delta
        else:
            self.counts[followee] = self.directory.follower_count(followee)

    def is_celebrity(self, followee: int) -> bool:
        if followee not in self.counts:
            self.counts[followee] = self.directory.follower_count(followee)
        return self.counts[followee] > self.directory.celebrity_threshold


class CelebritySets:
    """Keeps the celebrity sets in Redis whole for the table partitions this worker holds.

    A partition is recomputed when its mark is missing (Redis lost the sets) or behind the
    last offset this worker has applied to the table (Redis came back from an older
    snapshot): before a batch, and from a timer while no batch comes. Offsets need not be
    contiguous, so the table's progress is what the worker applied, never "first offset - 1".
    Both run under `lock`, which the edge agent holds while it changes the table, so a
    recomputation never sees a batch half applied. A partition this worker has not applied
    anything of yet counts as reflected up to the offset before its first batch.
    """

    def __init__(self, directory: TableFollowerDirectory, *, home_shards: int) -> None:
        self.directory = directory
        self.home_shards = home_shards
        self.lock = asyncio.Lock()
        self.last_batch_at = time.monotonic()
        self.applied: dict[str, int] = {}  # the last offset applied to the table, by partition

    async def before_batch(self, redis: Any, first_offsets: Mapping[str, int]) -> None:
        """Call with the lock held, before the batch changes the table."""
        self.last_batch_at = time.monotonic()
        marks = await celebrity_marks(redis)
        for field, first in first_offsets.items():
            reflected = self.applied.setdefault(field, first - 1)
            if field not in marks or marks[field] < reflected:
                await self._recompute(redis, field, reflected)

    def batch_applied(self, last_offsets: Mapping[str, int]) -> None:
        self.applied.update(last_offsets)

    async def check_idle(self, redis: Any, partitions: Iterable[TP]) -> None:
        """While no batch arrives, bring back the sets of partitions Redis lost or rewound."""
        async with self.lock:
            if time.monotonic() - self.last_batch_at < IDLE_BEFORE_CHECK_S:
                return
            marks = await celebrity_marks(redis)
            for tp in partitions:
                field = Position(tp.topic, tp.partition, 0).field
                reflected = self.applied.get(field)
                if reflected is not None and (field not in marks or marks[field] < reflected):
                    await self._recompute(redis, field, reflected)

    async def _recompute(self, redis: Any, field: str, reflected: int) -> None:
        partition = int(field.rpartition(":")[2])
        started = time.monotonic()
        celebrities = await restore_celebrities(
            redis,
            field=field,
            reflected=reflected,
            celebrities=self.directory.celebrities_in(partition),
            in_partition=lambda user: self.directory.partition_of(user) == partition,
            followers_of=self.directory.every_follower_of,
            shards=self.home_shards,
        )
        log.warning(
            "%s: celebrity sets missing or behind the follow-edge table; recomputed up to "
            "offset %d (%d celebrities) in %.3fs",
            field,
            reflected,
            celebrities,
            time.monotonic() - started,
        )


def follow_event(codec: EventCodec, event: EventT) -> UserFollowed | UserUnfollowed | None:
    try:
        decoded = codec.decode(event.message.value)
    except EventDecodeError:
        return None  # the projection agent on the same topic dead-letters it
    return decoded if isinstance(decoded, UserFollowed | UserUnfollowed) else None


def repartition_follows(by_followee: TopicT) -> AfterBatch:
    """Forwards each follow, keyed by followee, to the topic co-partitioned with tweets.

    Runs in the follows projection agent, on events it has decoded already: one pass over
    the follows topic instead of two."""

    async def forward(records: Sequence[EventT], batch: list[LoggedEvent]) -> None:
        for record, logged in zip(records, batch, strict=True):
            follow = logged.event
            if isinstance(follow, UserFollowed | UserUnfollowed):
                await by_followee.send(
                    key=record_key(follow.followee_id),
                    value=record.message.value,
                    headers=list(record.message.headers or []),
                )

    return forward


def register_follow_graph_agents(
    app: faust.App,
    *,
    by_followee: TopicT,
    table: faust.Table,
    codec: EventCodec,
    redis_factory: RedisFactory,
    directory: TableFollowerDirectory,
    home_shards: int,
    batch_size: int,
    batch_within_s: float,
) -> None:
    celebrity_sets = CelebritySets(directory, home_shards=home_shards)

    async def record_edges(stream: StreamT[bytes]) -> None:
        redis = redis_factory()
        counts = FollowerCounts(directory)
        try:
            async for events in stream.take_events(batch_size, within=batch_within_s):
                async with celebrity_sets.lock:
                    await record_batch(stream, events, counts, redis)
        finally:
            await redis.aclose()

    async def record_batch(
        stream: StreamT[bytes], events: Sequence[EventT], counts: FollowerCounts, redis: Any
    ) -> None:
        counts.forget_if_moved(app.assignor.assigned_actives())
        first: dict[str, int] = {}
        reflected: dict[str, int] = {}
        for event in events:
            message = event.message
            field = Position(message.topic, message.partition, 0).field
            first.setdefault(field, message.offset)
            reflected[field] = message.offset
        await celebrity_sets.before_batch(redis, first)
        recorded = []
        # A table write goes to the partition of the stream's current event; in a batch that
        # must be set per event, or every write lands in the last one's partition
        # (faust-streaming #497). The stream's own current event is put back before anything
        # is awaited: the take buffer reads it for the next record it adds, and a record added
        # under an event of this batch would be processed twice and the new one never (nor
        # acknowledged, so the group's committed offset would stop there).
        drained = stream.current_event
        try:
            for event in events:
                follow = follow_event(codec, event)
                if follow is None:
                    continue
                stream._set_current_event(event)
                key = edge_key(follow.followee_id, follow.follower_id)
                existed = key in table
                if isinstance(follow, UserFollowed):
                    table[key] = EDGE_PRESENT
                    counts.changed(follow.followee_id, 0 if existed else 1)
                else:
                    table.pop(key, None)
                    counts.changed(follow.followee_id, -1 if existed else 0)
                recorded.append(follow)
        finally:
            stream._set_current_event(drained)
        celebrities = {
            follow.followee_id: counts.is_celebrity(follow.followee_id) for follow in recorded
        }
        await after_follows(
            redis, recorded, celebrities, directory, reflected=reflected, shards=home_shards
        )
        celebrity_sets.batch_applied(reflected)

    app.agent(by_followee, name="record-follow-edges", concurrency=1)(record_edges)

    async def check_celebrity_sets() -> None:
        topics = set(by_followee.topics)
        partitions = [tp for tp in app.assignor.assigned_actives() if tp.topic in topics]
        if not partitions:
            return
        redis = redis_factory()
        try:
            await celebrity_sets.check_idle(redis, partitions)
        except REDIS_UNAVAILABLE as error:
            log.warning("Redis unavailable (%s); celebrity sets not checked", error)
        finally:
            await redis.aclose()

    app.timer(RESUME_CHECK_INTERVAL_S, name="celebrity-sets")(check_celebrity_sets)
