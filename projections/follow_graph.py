"""The follow graph as served to clients: followers and following lists and their counts.

Keys (under `chirp:follow_graph:v{n}:`, hash-tagged by user): `following:{user}` and
`followers:{user}` -> sorted sets of user ids (score 0, fixed-width members, one member per
edge). The worker's own copy of the graph, partitioned by followee for fan-out, is a RocksDB
table (`streams.follow_graph`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from domain.events import Event, UserFollowed, UserUnfollowed
from domain.ids import sortable_id
from projections.base import Namespace

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

    from projections.redis_client import RedisClient


def following_key(keys: Namespace, user_id: int) -> str:
    return keys.of("following", user_id)


def followers_key(keys: Namespace, user_id: int) -> str:
    return keys.of("followers", user_id)


class FollowGraphProjection:
    name: ClassVar[str] = "follow_graph"
    topic_families: ClassVar[tuple[str, ...]] = ("follows",)

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        match event:
            case UserFollowed():
                tx.zadd(following_key(keys, event.follower_id), {sortable_id(event.followee_id): 0})
                tx.zadd(followers_key(keys, event.followee_id), {sortable_id(event.follower_id): 0})
            case UserUnfollowed():
                tx.zrem(following_key(keys, event.follower_id), sortable_id(event.followee_id))
                tx.zrem(followers_key(keys, event.followee_id), sortable_id(event.follower_id))


async def user_page(
    redis: RedisClient, key: str, *, limit: int, after: int | None
) -> tuple[list[int], int | None]:
    """A page of user ids from one of the graph's sorted sets, in id order."""
    lower = f"({sortable_id(after)}" if after is not None else "-"
    members = await redis.zrangebylex(key, lower, "+", 0, limit + 1)
    ids = [int(member) for member in members]
    if len(ids) > limit:
        return ids[:limit], ids[limit - 1]
    return ids, None


async def graph_counts(redis: RedisClient, keys: Namespace, user_id: int) -> tuple[int, int]:
    """(followers_count, following_count)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zcard(followers_key(keys, user_id))
        pipe.zcard(following_key(keys, user_id))
        followers, following = await pipe.execute()
    return int(followers), int(following)


async def is_following(
    redis: RedisClient, keys: Namespace, follower_id: int, followee_id: int
) -> bool:
    score = await redis.zscore(following_key(keys, follower_id), sortable_id(followee_id))
    return score is not None
