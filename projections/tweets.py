"""The tweet objects read model: one JSON document per tweet, keyed by id.

Keys (under `chirp:tweets:v{n}:`): `tweet:{id}` -> the stored tweet (orjson). Authors are
stored by id and joined at read time, so a profile change never rewrites tweets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from domain.events import Event, TweetPosted
from projections.base import Namespace

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

StoredTweet = dict[str, Any]


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


class TweetsProjection:
    name: ClassVar[str] = "tweets"
    topic_families: ClassVar[tuple[str, ...]] = ("tweets",)

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        if isinstance(event, TweetPosted):
            tx.set(keys.key("tweet", event.tweet_id), orjson.dumps(stored_tweet(event)))


async def tweets_by_id(redis: Redis, keys: Namespace, tweet_ids: list[int]) -> list[StoredTweet]:
    """The stored tweets that exist, in the order of `tweet_ids`, in one round trip."""
    if not tweet_ids:
        return []
    rows = await redis.mget([keys.key("tweet", tweet_id) for tweet_id in tweet_ids])
    return [orjson.loads(row) for row in rows if row is not None]
