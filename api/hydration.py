"""Turns entry ids from any timeline into the API's tweet objects.

Joins tweet objects with their authors and counts, resolves retweet entries to their
originals, and drops whatever is deleted or undone, so no read ever shows a tombstone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from api.views import JsonObject, TweetCounts, retweet_view, tweet_view
from projections.base import Namespace
from projections.likes import like_counts
from projections.tweets import StoredTweet, counts, tweets_by_id
from projections.users import profiles

HYDRATION_PROJECTIONS = ("tweets", "users", "likes")


@dataclass(frozen=True, slots=True)
class TweetSources:
    tweets: Namespace
    users: Namespace
    likes: Namespace

    @classmethod
    def of(cls, spaces: dict[str, Namespace]) -> TweetSources:
        return cls(spaces["tweets"], spaces["users"], spaces["likes"])


async def _stored(redis: Redis, keys: Namespace, ids: list[int]) -> dict[int, StoredTweet]:
    return {int(tweet["id"]): tweet for tweet in await tweets_by_id(redis, keys, ids)}


async def hydrate(
    redis: Redis, sources: TweetSources, entry_ids: list[int]
) -> dict[int, JsonObject]:
    """Views of the entries that are live, by entry id."""
    entries = await _stored(redis, sources.tweets, entry_ids)
    original_ids = sorted(
        {int(e["retweet_of"]) for e in entries.values() if e["retweet_of"] is not None}
    )
    originals = await _stored(redis, sources.tweets, original_ids)
    shown = {tid: t for tid, t in entries.items() if t["retweet_of"] is None} | originals
    shown_ids = sorted(shown)
    authors = await profiles(
        redis,
        sources.users,
        sorted({int(t["author_id"]) for t in [*entries.values(), *originals.values()]}),
    )
    likes = await like_counts(redis, sources.likes, shown_ids)
    others = await counts(redis, sources.tweets, shown_ids)
    views = {
        tid: tweet_view(shown[tid], authors, TweetCounts(like, retweets, replies))
        for tid, like, (retweets, replies) in zip(shown_ids, likes, others, strict=True)
    }
    hydrated: dict[int, JsonObject] = {}
    for entry_id, entry in entries.items():
        if entry["retweet_of"] is None:
            hydrated[entry_id] = views[entry_id]
        elif int(entry["retweet_of"]) in views:
            hydrated[entry_id] = retweet_view(entry, views[int(entry["retweet_of"])], authors)
    return hydrated


Fetch = Callable[[int | None, int], Awaitable[list[int]]]


async def fill_page(
    fetch: Fetch,
    resolve: Callable[[list[int]], Awaitable[dict[int, JsonObject]]],
    *,
    limit: int,
    cursor: int | None,
) -> tuple[list[JsonObject], str | None]:
    """Up to `limit` live items after `cursor`, skipping ids that resolve to nothing.

    `fetch(cursor, n)` returns up to n ids following the cursor in the listing's own order.
    """
    items: list[JsonObject] = []
    while True:
        ids = await fetch(cursor, limit + 1)
        resolved = await resolve(ids)
        for position, item_id in enumerate(ids):
            cursor = item_id
            if item_id in resolved:
                items.append(resolved[item_id])
            if len(items) == limit:
                more = position < len(ids) - 1 or len(ids) > limit
                return items, str(item_id) if more else None
        if len(ids) <= limit:
            return items, None
