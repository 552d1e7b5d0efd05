"""Likes: who liked each tweet. Sorted-set adds and removes are idempotent, so the count
(the set's size) is exact under duplicate requests, retries, replays and crashes.

Keys (under `chirp:likes:v{n}:`, hash-tagged by tweet): `likers:{tweet id}` -> sorted set of
user ids (score 0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from domain.events import Event, TweetLiked, TweetUnliked
from domain.ids import sortable_id
from projections.base import Namespace

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

    from projections.redis_client import RedisClient


def likers_key(keys: Namespace, tweet_id: int) -> str:
    return keys.of("likers", tweet_id)


class LikesProjection:
    name: ClassVar[str] = "likes"
    topic_families: ClassVar[tuple[str, ...]] = ("likes",)

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        match event:
            case TweetLiked():
                tx.zadd(likers_key(keys, event.tweet_id), {sortable_id(event.user_id): 0})
            case TweetUnliked():
                tx.zrem(likers_key(keys, event.tweet_id), sortable_id(event.user_id))


async def like_counts(redis: RedisClient, keys: Namespace, tweet_ids: list[int]) -> list[int]:
    async with redis.pipeline(transaction=False) as pipe:
        for tweet_id in tweet_ids:
            pipe.zcard(likers_key(keys, tweet_id))
        return [int(count) for count in await pipe.execute()]
