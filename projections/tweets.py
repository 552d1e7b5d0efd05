"""The tweet objects read model: posts, retweet entries, tombstones, replies and retweeters.

Keys (under `chirp:tweets:v{n}:`, hash-tagged by tweet id, so one tweet's keys share a slot):
- `tweet:{id}` -> the stored tweet or retweet entry (orjson); authors are joined at read time.
- `deleted:{id}` -> tombstone of a deleted tweet: it never comes back, even on re-application.
- `replies:{id}` -> sorted set of direct reply ids (fixed-width, lexicographic = time order).
- `retweet_by:{id}` -> hash retweeter id -> retweet entry id; one retweet per user and tweet.
  A retweet entry whose retweeter no longer maps to it here was undone.
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
    from redis.asyncio.client import Pipeline

    from projections.redis_client import RedisClient

StoredTweet = dict[str, Any]

# KEYS: tweet, deleted  ARGV: json
_POST = LuaScript("projections.scripts", "tweet_post.lua")
# KEYS: retweet_by, retweeters  ARGV: user id, retweet id
_RETWEET = LuaScript("projections.scripts", "tweet_retweet.lua")
# KEYS: retweet_by, retweeters  ARGV: user id
_UNDO_RETWEET = LuaScript("projections.scripts", "tweet_undo_retweet.lua")


def tweet_key(keys: Namespace, tweet_id: int) -> str:
    return keys.of("tweet", tweet_id)


def replies_key(keys: Namespace, tweet_id: int) -> str:
    return keys.of("replies", tweet_id)


def retweet_by_key(keys: Namespace, tweet_id: int) -> str:
    return keys.of("retweet_by", tweet_id)


def retweeters_key(keys: Namespace, tweet_id: int) -> str:
    return keys.of("retweeters", tweet_id)


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
                _POST.queue(
                    tx,
                    [tweet_key(keys, event.tweet_id), keys.of("deleted", event.tweet_id)],
                    [orjson.dumps(stored_tweet(event))],
                )
                if event.reply_to is not None:
                    # A reply's own events are in order (one author, one partition), so a
                    # deleted reply is never added back here after its deletion.
                    tx.zadd(replies_key(keys, event.reply_to), {sortable_id(event.tweet_id): 0})
            case TweetDeleted():
                tx.set(keys.of("deleted", event.tweet_id), 1)
                # Its retweeters set stays: retweets and undos of it may still arrive from
                # other partitions, and applying them in any order must give the same state.
                tx.delete(tweet_key(keys, event.tweet_id))
                if event.reply_to is not None:
                    tx.zrem(replies_key(keys, event.reply_to), sortable_id(event.tweet_id))
            case TweetRetweeted():
                _RETWEET.queue(
                    tx,
                    [retweet_by_key(keys, event.tweet_id), retweeters_key(keys, event.tweet_id)],
                    [event.user_id, event.retweet_id],
                )
                tx.set(tweet_key(keys, event.retweet_id), orjson.dumps(stored_retweet(event)))
            case RetweetUndone():
                _UNDO_RETWEET.queue(
                    tx,
                    [retweet_by_key(keys, event.tweet_id), retweeters_key(keys, event.tweet_id)],
                    [event.user_id],
                )


async def tweets_by_id(
    redis: RedisClient, keys: Namespace, tweet_ids: list[int]
) -> list[StoredTweet]:
    """The stored tweets that exist, in the order of `tweet_ids`, in one round trip."""
    if not tweet_ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for tweet_id in tweet_ids:
            pipe.get(tweet_key(keys, tweet_id))
        rows = await pipe.execute()
    return [orjson.loads(row) for row in rows if row is not None]


async def live_tweet(redis: RedisClient, keys: Namespace, tweet_id: int) -> StoredTweet | None:
    """The tweet if it exists and is an original (not a retweet entry)."""
    found = await tweets_by_id(redis, keys, [tweet_id])
    return found[0] if found and found[0]["retweet_of"] is None else None


async def retweet_of_user(
    redis: RedisClient, keys: Namespace, tweet_id: int, user_id: int
) -> int | None:
    raw = await redis.hget(retweet_by_key(keys, tweet_id), str(user_id))
    return int(raw) if raw is not None else None


async def reply_page(
    redis: RedisClient, keys: Namespace, tweet_id: int, *, limit: int, after: int | None
) -> tuple[list[int], int | None]:
    """Direct replies oldest first, after the cursor, and the next cursor."""
    lower = f"({sortable_id(after)}" if after is not None else "-"
    members = await redis.zrangebylex(replies_key(keys, tweet_id), lower, "+", 0, limit + 1)
    ids = [int(member) for member in members]
    if len(ids) > limit:
        return ids[:limit], ids[limit - 1]
    return ids, None


def queue_stored_tweet(pipe: Any, keys: Namespace, tweet_id: int) -> None:
    """Queues the stored tweet (orjson bytes) or None."""
    pipe.get(tweet_key(keys, tweet_id))


def queue_has_retweeted(pipe: Any, keys: Namespace, tweet_id: int, user_id: int) -> None:
    """Queues whether the user's retweet of the tweet stands (a bool)."""
    pipe.hexists(retweet_by_key(keys, tweet_id), str(user_id))


async def retweeters_of(redis: RedisClient, keys: Namespace, tweet_id: int) -> list[int]:
    """The users whose retweet of the tweet stands, by id."""
    return sorted(int(member) for member in await redis.smembers(retweeters_key(keys, tweet_id)))
