"""The tweet objects read model: posts, retweet entries, tombstones, replies and retweeters.

Keys (under `chirp:tweets:v{n}:`):
- `tweet:{id}` -> the stored tweet or retweet entry (orjson); authors are joined at read time.
- `deleted:{id}` -> tombstone of a deleted tweet: it never comes back, even on re-application.
- `replies:{id}` -> sorted set of direct reply ids (fixed-width, lexicographic = time order).
- `retweet_by:{id}` -> hash retweeter id -> retweet entry id; one retweet per user and tweet.
- `retweeters:{id}` -> set of users who retweeted it (its retweet count).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from domain.events import Event, RetweetUndone, TweetDeleted, TweetPosted, TweetRetweeted
from domain.ids import sortable_id
from projections.base import Namespace
from projections.lua import LuaScript

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

StoredTweet = dict[str, Any]

# KEYS: tweet, deleted, replies of parent (or "")  ARGV: json, id
_POST = LuaScript("""
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
if KEYS[3] ~= '' then redis.call('ZADD', KEYS[3], 0, ARGV[2]) end
return 1
""")

# KEYS: retweet_by, retweet entry, retweeters  ARGV: user id, retweet id, entry json
_RETWEET = LuaScript("""
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
""")

# KEYS: retweet_by, retweeters  ARGV: user id, entry key prefix
_UNDO_RETWEET = LuaScript("""
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('DEL', ARGV[2] .. entry)
return 1
""")


def stored_tweet(event: TweetPosted) -> StoredTweet:
    return {
        "id": str(event.tweet_id),
        "author_id": str(event.author_id),
        "text": event.text,
        "created_at_ms": event.created_at_ms,
        "reply_to": str(event.reply_to) if event.reply_to is not None else None,
        "quote_of": str(event.quote_of) if event.quote_of is not None else None,
        "retweet_of": None,
        "media_ids": [str(media_id) for media_id in event.media_ids],
        "location": (
            {"lat": event.location.lat, "lon": event.location.lon} if event.location else None
        ),
        "hashtags": list(event.hashtags),
        "mentions": list(event.mentions),
    }


def stored_retweet(event: TweetRetweeted) -> StoredTweet:
    return {
        "id": str(event.retweet_id),
        "author_id": str(event.user_id),
        "created_at_ms": event.retweeted_at_ms,
        "retweet_of": str(event.tweet_id),
    }


class TweetsProjection:
    name: ClassVar[str] = "tweets"
    topic_families: ClassVar[tuple[str, ...]] = ("tweets",)

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        match event:
            case TweetPosted():
                replies = keys.key("replies", event.reply_to) if event.reply_to else ""
                _POST.queue(
                    tx,
                    [
                        keys.key("tweet", event.tweet_id),
                        keys.key("deleted", event.tweet_id),
                        replies,
                    ],
                    [orjson.dumps(stored_tweet(event)), sortable_id(event.tweet_id)],
                )
            case TweetDeleted():
                tx.set(keys.key("deleted", event.tweet_id), 1)
                # Its retweeters set stays: retweets and undos of it may still arrive from
                # other partitions, and applying them in any order must give the same state.
                tx.delete(keys.key("tweet", event.tweet_id))
                if event.reply_to is not None:
                    tx.zrem(keys.key("replies", event.reply_to), sortable_id(event.tweet_id))
            case TweetRetweeted():
                _RETWEET.queue(
                    tx,
                    [
                        keys.key("retweet_by", event.tweet_id),
                        keys.key("tweet", event.retweet_id),
                        keys.key("retweeters", event.tweet_id),
                    ],
                    [event.user_id, event.retweet_id, orjson.dumps(stored_retweet(event))],
                )
            case RetweetUndone():
                _UNDO_RETWEET.queue(
                    tx,
                    [
                        keys.key("retweet_by", event.tweet_id),
                        keys.key("retweeters", event.tweet_id),
                    ],
                    [event.user_id, keys.key("tweet", "")],
                )


async def tweets_by_id(redis: Redis, keys: Namespace, tweet_ids: list[int]) -> list[StoredTweet]:
    """The stored tweets that exist, in the order of `tweet_ids`, in one round trip."""
    if not tweet_ids:
        return []
    rows = await redis.mget([keys.key("tweet", tweet_id) for tweet_id in tweet_ids])
    return [orjson.loads(row) for row in rows if row is not None]


async def live_tweet(redis: Redis, keys: Namespace, tweet_id: int) -> StoredTweet | None:
    """The tweet if it exists and is an original (not a retweet entry)."""
    found = await tweets_by_id(redis, keys, [tweet_id])
    return found[0] if found and found[0]["retweet_of"] is None else None


async def retweet_of_user(redis: Redis, keys: Namespace, tweet_id: int, user_id: int) -> int | None:
    raw = await redis.hget(keys.key("retweet_by", tweet_id), str(user_id))
    return int(raw) if raw is not None else None


async def reply_page(
    redis: Redis, keys: Namespace, tweet_id: int, *, limit: int, after: int | None
) -> tuple[list[int], int | None]:
    """Direct replies oldest first, after the cursor, and the next cursor."""
    lower = f"({sortable_id(after)}" if after is not None else "-"
    members = await redis.zrangebylex(keys.key("replies", tweet_id), lower, "+", 0, limit + 1)
    ids = [int(member) for member in members]
    if len(ids) > limit:
        return ids[:limit], ids[limit - 1]
    return ids, None


async def counts(redis: Redis, keys: Namespace, tweet_ids: list[int]) -> list[tuple[int, int]]:
    """(retweet_count, reply_count) for each tweet."""
    async with redis.pipeline(transaction=False) as pipe:
        for tweet_id in tweet_ids:
            pipe.scard(keys.key("retweeters", tweet_id))
            pipe.zcard(keys.key("replies", tweet_id))
        rows = await pipe.execute()
    return [(int(rows[i]), int(rows[i + 1])) for i in range(0, len(rows), 2)]
