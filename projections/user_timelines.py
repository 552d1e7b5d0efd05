"""User timelines: each author's own tweets, newest first.

Keys (under `chirp:user_timelines:v{n}:`): `timeline:{author id}` -> sorted set whose
members are fixed-width decimal tweet ids, all with score 0. Scores are doubles and lose
precision above 2^53, so order comes from the members themselves (lexicographic range
queries), which is exact for 64-bit ids.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from domain.events import Event, TweetPosted
from domain.ids import sortable_id
from projections.base import Namespace

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline


def timeline_key(keys: Namespace, author_id: int) -> str:
    return keys.key("timeline", author_id)


class UserTimelinesProjection:
    name: ClassVar[str] = "user_timelines"
    topic_families: ClassVar[tuple[str, ...]] = ("tweets",)

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        if isinstance(event, TweetPosted):
            tx.zadd(timeline_key(keys, event.author_id), {sortable_id(event.tweet_id): 0})


async def timeline_page(
    redis: Redis, keys: Namespace, author_id: int, *, limit: int, before: int | None
) -> tuple[list[int], int | None]:
    """Up to `limit` tweet ids older than `before` (newest first) and the next cursor."""
    upper = f"({sortable_id(before)}" if before is not None else "+"
    members = await redis.zrevrangebylex(
        timeline_key(keys, author_id), upper, "-", start=0, num=limit + 1
    )
    ids = [int(member) for member in members]
    if len(ids) > limit:
        return ids[:limit], ids[limit - 1]
    return ids, None


async def timeline_length(redis: Redis, keys: Namespace, author_id: int) -> int:
    return int(await redis.zcard(timeline_key(keys, author_id)))
