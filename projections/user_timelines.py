"""User timelines: each user's own tweets and retweets, newest first.

Keys (under `chirp:user_timelines:v{n}:`):
- `timeline:{user id}` -> sorted set of entry ids (tweets and retweet entries).
- `posts:{user id}` -> sorted set of the user's own live tweets (the tweet count).
- `retweet_by:{tweet id}` -> hash retweeter -> retweet entry id (one retweet per user).
- `retweet_of` -> hash retweet entry id -> original tweet id, for timeline merges.

Members are fixed-width decimal ids, all with score 0: scores are doubles and lose precision
above 2^53, so order comes from the members themselves (lexicographic ranges), exact for
64-bit ids, and ids are time-ordered, so this is newest-first by creation time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from domain.events import Event, RetweetUndone, TweetDeleted, TweetPosted, TweetRetweeted
from domain.ids import sortable_id
from projections.base import Namespace
from projections.lua import LuaScript

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

# KEYS: retweet_by, timeline, retweet_of  ARGV: user id, entry (sortable), original (sortable)
_RETWEET = LuaScript("""
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], 0, ARGV[2])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return 1
""")

# KEYS: retweet_by, timeline, retweet_of  ARGV: user id
_UNDO = LuaScript("""
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], entry)
redis.call('HDEL', KEYS[3], entry)
return 1
""")


def timeline_key(keys: Namespace, user_id: int) -> str:
    return keys.key("timeline", user_id)


class UserTimelinesProjection:
    name: ClassVar[str] = "user_timelines"
    topic_families: ClassVar[tuple[str, ...]] = ("tweets",)

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        match event:
            case TweetPosted():
                member = sortable_id(event.tweet_id)
                tx.zadd(timeline_key(keys, event.author_id), {member: 0})
                tx.zadd(keys.key("posts", event.author_id), {member: 0})
            case TweetDeleted():
                member = sortable_id(event.tweet_id)
                tx.zrem(timeline_key(keys, event.author_id), member)
                tx.zrem(keys.key("posts", event.author_id), member)
            case TweetRetweeted():
                _RETWEET.queue(
                    tx,
                    [
                        keys.key("retweet_by", event.tweet_id),
                        timeline_key(keys, event.user_id),
                        keys.key("retweet_of"),
                    ],
                    [event.user_id, sortable_id(event.retweet_id), sortable_id(event.tweet_id)],
                )
            case RetweetUndone():
                _UNDO.queue(
                    tx,
                    [
                        keys.key("retweet_by", event.tweet_id),
                        timeline_key(keys, event.user_id),
                        keys.key("retweet_of"),
                    ],
                    [event.user_id],
                )


async def timeline_entries(
    redis: Redis, keys: Namespace, user_id: int, *, count: int, before: int | None
) -> list[int]:
    """Up to `count` entry ids older than `before`, newest first."""
    upper = f"({sortable_id(before)}" if before is not None else "+"
    members = await redis.zrevrangebylex(timeline_key(keys, user_id), upper, "-", 0, count)
    return [int(member) for member in members]


async def tweet_count(redis: Redis, keys: Namespace, user_id: int) -> int:
    return int(await redis.zcard(keys.key("posts", user_id)))
