"""User timelines: each user's own tweets and retweets, newest first.

Keys (under `chirp:user_timelines:v{n}:`, hash-tagged by user id):
- `timeline:{user}` -> sorted set of timeline entries (`projections.entries`: entry, original,
  actor, author), tweets and retweets alike.
- `posts:{user}` -> sorted set of the user's own live tweets (the tweet count).
- `retweets:{user}` -> hash original tweet id -> the user's retweet entry (one per tweet).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from domain.events import Event, RetweetUndone, TweetDeleted, TweetPosted, TweetRetweeted
from domain.ids import sortable_id
from projections.base import Namespace
from projections.entries import TimelineEntry, before_bound
from projections.lua import LuaScript

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

    from projections.redis_client import RedisClient

# KEYS: retweets, timeline (the retweeter's slot)  ARGV: original id, entry member
_RETWEET = LuaScript("projections.scripts", "user_timeline_retweet.lua")
# KEYS: retweets, timeline  ARGV: original id
_UNDO = LuaScript("projections.scripts", "user_timeline_undo_retweet.lua")


def timeline_key(keys: Namespace, user_id: int) -> str:
    return keys.of("timeline", user_id)


def posts_key(keys: Namespace, user_id: int) -> str:
    return keys.of("posts", user_id)


class UserTimelinesProjection:
    name: ClassVar[str] = "user_timelines"
    topic_families: ClassVar[tuple[str, ...]] = ("tweets",)

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        match event:
            case TweetPosted():
                entry = TimelineEntry.tweet(event.tweet_id, event.author_id)
                tx.zadd(timeline_key(keys, event.author_id), {entry.member: 0})
                tx.zadd(posts_key(keys, event.author_id), {sortable_id(event.tweet_id): 0})
            case TweetDeleted():
                entry = TimelineEntry.tweet(event.tweet_id, event.author_id)
                tx.zrem(timeline_key(keys, event.author_id), entry.member)
                tx.zrem(posts_key(keys, event.author_id), sortable_id(event.tweet_id))
            case TweetRetweeted():
                # The original's author is not in the event: the entry names the retweeter
                # as both, and readers take the author from the stored original.
                entry = TimelineEntry(event.retweet_id, event.tweet_id, event.user_id, 0)
                _RETWEET.queue(
                    tx,
                    [keys.of("retweets", event.user_id), timeline_key(keys, event.user_id)],
                    [event.tweet_id, entry.member],
                )
            case RetweetUndone():
                _UNDO.queue(
                    tx,
                    [keys.of("retweets", event.user_id), timeline_key(keys, event.user_id)],
                    [event.tweet_id],
                )


def timeline_page_command(
    pipe: Pipeline, keys: Namespace, user_id: int, *, count: int, before: int | None
) -> None:
    """Queue the read of up to `count` entries older than `before`, newest first."""
    pipe.zrevrangebylex(timeline_key(keys, user_id), before_bound(before), "-", 0, count)


async def timeline_entries(
    redis: RedisClient, keys: Namespace, user_id: int, *, count: int, before: int | None
) -> list[TimelineEntry]:
    """Up to `count` entries older than `before`, newest first."""
    members = await redis.zrevrangebylex(
        timeline_key(keys, user_id), before_bound(before), "-", 0, count
    )
    return [TimelineEntry.parse(member) for member in members]


async def tweet_count(redis: RedisClient, keys: Namespace, user_id: int) -> int:
    return int(await redis.zcard(posts_key(keys, user_id)))


async def own_tweet_ids(redis: RedisClient, keys: Namespace, user_id: int) -> list[int]:
    """Every live tweet of the user (an erasure deletes them all)."""
    members = await redis.zrangebylex(posts_key(keys, user_id), "-", "+")
    return [int(member) for member in members]


async def retweeted_originals(redis: RedisClient, keys: Namespace, user_id: int) -> list[int]:
    """The original tweets the user's standing retweets are of (an erasure undoes them)."""
    originals = await redis.hkeys(keys.of("retweets", user_id))
    return sorted(int(original) for original in originals)
