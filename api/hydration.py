"""Joins tweet objects with their authors' profiles into the API's tweet shape."""

from __future__ import annotations

from redis.asyncio import Redis

from api.views import JsonObject, tweet_view
from projections.base import Namespace
from projections.tweets import tweets_by_id
from projections.users import profiles


async def hydrate_tweets(
    redis: Redis, *, tweets: Namespace, users: Namespace, tweet_ids: list[int]
) -> list[JsonObject]:
    stored = await tweets_by_id(redis, tweets, tweet_ids)
    authors = await profiles(redis, users, sorted({int(t["author_id"]) for t in stored}))
    return [tweet_view(tweet, authors) for tweet in stored]
