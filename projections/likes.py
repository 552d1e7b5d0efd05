"""Likes: who liked each tweet. Sorted-set adds and removes are idempotent, so the count
(the set's size) is exact under duplicate requests, retries, replays and crashes.

Keys (under `chirp:likes:v{n}:`): `likers:{tweet id}` -> sorted set of user ids (score 0),
hash-tagged by tweet; `liked:{user id}` -> sorted set of the tweet ids the user likes (score 0,
hash-tagged by user), what an account erasure takes back. One tweet's likes and unlikes share a
partition, so both sets see them in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from domain.events import Event, TweetLiked, TweetUnliked
from domain.ids import sortable_id
from projections.base import Namespace

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

    from projections.redis_client import RedisClient


def likers_key(keys: Namespace, tweet_id: int) -> str:
    return keys.of("likers", tweet_id)


def liked_key(keys: Namespace, user_id: int) -> str:
    return keys.of("liked", user_id)


class LikesProjection:
    name: ClassVar[str] = "likes"
    topic_families: ClassVar[tuple[str, ...]] = ("likes",)

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        match event:
            case TweetLiked():
                tx.zadd(likers_key(keys, event.tweet_id), {sortable_id(event.user_id): 0})
                tx.zadd(liked_key(keys, event.user_id), {sortable_id(event.tweet_id): 0})
            case TweetUnliked():
                tx.zrem(likers_key(keys, event.tweet_id), sortable_id(event.user_id))
                tx.zrem(liked_key(keys, event.user_id), sortable_id(event.tweet_id))


async def like_counts(redis: RedisClient, keys: Namespace, tweet_ids: list[int]) -> list[int]:
    async with redis.pipeline(transaction=False) as pipe:
        for tweet_id in tweet_ids:
            pipe.zcard(likers_key(keys, tweet_id))
        return [int(count) for count in await pipe.execute()]


async def liked_by(redis: RedisClient, keys: Namespace, user_id: int) -> list[int]:
    """Every tweet id the user likes (an erasure takes them all back)."""
    members = await redis.zrangebylex(liked_key(keys, user_id), "-", "+")
    return [int(member) for member in members]


def queue_likes_it(pipe: Any, keys: Namespace, tweet_id: int, user_id: int) -> None:
    """Queues whether the user likes the tweet: a score if so, None if not."""
    pipe.zscore(likers_key(keys, tweet_id), sortable_id(user_id))


async def liked_page(
    redis: RedisClient, keys: Namespace, user_id: int, *, count: int, before: int | None
) -> list[int]:
    """Up to `count` tweet ids the user likes, below the tweet `before`, newest tweet first
    (the set keeps tweets, not when they were liked)."""
    bound = f"({sortable_id(before)}" if before is not None else "+"
    members = await redis.zrevrangebylex(liked_key(keys, user_id), bound, "-", 0, count)
    return [int(member) for member in members]
