"""Turns timeline entries and tweet ids into the API's tweet objects (skeleton, then hydrate).

A page's entries already name every tweet and user to fetch, so hydration is one pipeline:
a card per original tweet (stored tweet and counts, `projections.tweet_cards`) and a profile
per user. Retweet entries resolve to their originals; whatever is deleted or undone is
dropped, so no read ever shows a tombstone.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from redis.asyncio import RedisCluster

from api.views import JsonObject, TweetCounts, retweet_view, tweet_view
from domain.ids import id_timestamp_ms
from projections.base import Namespace
from projections.entries import TimelineEntry
from projections.lua import pipeline_with_scripts
from projections.media import media_descriptions
from projections.tweet_cards import (
    CardRequest,
    CardSources,
    TweetCard,
    parse_cards,
    queue_cards,
)
from projections.tweets import tweets_by_id
from projections.users import UserProfile, profile_from_hash, queue_profile

HYDRATION_PROJECTIONS = ("tweets", "users", "likes", "media")


@dataclass(frozen=True, slots=True)
class TweetSources:
    tweets: Namespace
    users: Namespace
    likes: Namespace
    media: Namespace

    @classmethod
    def of(cls, spaces: dict[str, Namespace]) -> TweetSources:
        return cls(spaces["tweets"], spaces["users"], spaces["likes"], spaces["media"])


class ProfileCache:
    """Profiles this API process read lately, so hot authors cost no Redis command per read.

    Keyed by the users projection's version (a rebuild starts afresh); entries live `ttl_s`,
    so a changed display name shows within that time. Only found profiles are kept: a user
    who is not projected yet is asked for again.
    """

    def __init__(self, max_entries: int = 100_000, ttl_s: float = 5.0) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._entries: dict[tuple[int, int], tuple[float, UserProfile]] = {}

    def lookup(
        self, users: Namespace, ids: Iterable[int]
    ) -> tuple[dict[int, UserProfile], list[int]]:
        """(profiles known and fresh, ids to read)."""
        now = time.monotonic()
        found: dict[int, UserProfile] = {}
        missing: list[int] = []
        for user_id in ids:
            cached = self._entries.get((users.version, user_id))
            if cached is not None and cached[0] > now:
                found[user_id] = cached[1]
            else:
                missing.append(user_id)
        return found, missing

    def remember(self, users: Namespace, profiles: dict[int, UserProfile]) -> None:
        if len(self._entries) + len(profiles) > self.max_entries:
            self._entries.clear()
        expires = time.monotonic() + self.ttl_s
        for user_id, profile in profiles.items():
            self._entries[(users.version, user_id)] = (expires, profile)


async def hydrate_entries(
    redis: Any,
    sources: TweetSources,
    entries: list[TimelineEntry],
    cache: ProfileCache | None = None,
) -> dict[int, JsonObject]:
    """Views of the entries that are live, by entry id."""
    if not entries:
        return {}
    cache = cache or ProfileCache(max_entries=0)
    retweeters: dict[int, list[int]] = {}
    for entry in entries:
        checks = retweeters.setdefault(entry.original_id, [])
        if entry.is_retweet:
            checks.append(entry.actor_id)
    known, users = cache.lookup(
        sources.users, sorted({e.actor_id for e in entries} | {e.author_id for e in entries} - {0})
    )
    card_sources = CardSources(sources.tweets, sources.likes)
    one_call = not isinstance(redis, RedisCluster)
    calls: list[list[CardRequest]] = []

    def queue(pipe: Any) -> None:
        calls[:] = queue_cards(pipe, card_sources, list(retweeters.items()), one_call=one_call)
        for user in users:
            queue_profile(pipe, sources.users, user)

    rows = await pipeline_with_scripts(redis, queue)
    cards = parse_cards(rows[: len(calls)], calls)
    fetched = _profiles(rows[len(calls) :])
    authors = known | fetched
    missing = {int(c.tweet["author_id"]) for c in cards.values()} - authors.keys()
    if missing:  # retweets name no author: fetch the originals' authors now
        found, to_read = cache.lookup(sources.users, sorted(missing))
        fetched |= await _fetch_profiles(redis, sources.users, to_read) if to_read else {}
        authors |= found | fetched
    cache.remember(sources.users, fetched)
    attached = sorted({int(m) for card in cards.values() for m in card.tweet["media_ids"]})
    # Only pages with media pay this: the attachments' descriptions, one pipeline.
    media = await media_descriptions(redis, sources.media, attached) if attached else {}
    return _views(entries, cards, authors, media)


def _views(
    entries: list[TimelineEntry],
    cards: dict[int, TweetCard],
    authors: dict[int, UserProfile],
    media: dict[int, JsonObject],
) -> dict[int, JsonObject]:
    views: dict[int, JsonObject] = {}
    originals: dict[int, JsonObject] = {}
    for entry in entries:
        card = cards.get(entry.original_id)
        if card is None:
            continue
        if entry.original_id not in originals:
            counts = TweetCounts(card.like_count, card.retweet_count, card.reply_count)
            originals[entry.original_id] = tweet_view(card.tweet, authors, counts, media)
        original = originals[entry.original_id]
        if not entry.is_retweet:
            views[entry.entry_id] = original
        elif card.standing_retweets.get(entry.actor_id) == entry.entry_id:
            stored_entry = {
                "id": str(entry.entry_id),
                "author_id": str(entry.actor_id),
                "created_at_ms": id_timestamp_ms(entry.entry_id),
                "retweet_of": str(entry.original_id),
            }
            views[entry.entry_id] = retweet_view(stored_entry, original, authors)
    return views


def _profiles(rows: list[Any]) -> dict[int, UserProfile]:
    found = (profile_from_hash(row) for row in rows)
    return {profile.user_id: profile for profile in found if profile is not None}


async def _fetch_profiles(redis: Any, users: Namespace, ids: list[int]) -> dict[int, UserProfile]:
    async with redis.pipeline(transaction=False) as pipe:
        for user in ids:
            queue_profile(pipe, users, user)
        return _profiles(await pipe.execute())


async def hydrate(
    redis: Any, sources: TweetSources, ids: list[int], cache: ProfileCache | None = None
) -> dict[int, JsonObject]:
    """Views of tweets or retweet entries by id (threads, replies, single tweets)."""
    stored = await tweets_by_id(redis, sources.tweets, ids)
    entries = [
        TimelineEntry(
            int(t["id"]),
            int(t["retweet_of"] or t["id"]),
            int(t["author_id"]),
            0 if t["retweet_of"] else int(t["author_id"]),
        )
        for t in stored
    ]
    return await hydrate_entries(redis, sources, entries, cache)


def entry_id(entry: TimelineEntry) -> int:
    return entry.entry_id


Item = TypeVar("Item", bound=Hashable)


async def fill_page(
    fetch: Callable[[int | None, int], Awaitable[list[Item]]],
    resolve: Callable[[list[Item]], Awaitable[dict[int, JsonObject]]],
    *,
    limit: int,
    cursor: int | None,
    id_of: Callable[[Item], int] = int,  # type: ignore[assignment]
) -> tuple[list[JsonObject], str | None]:
    """Up to `limit` live items after `cursor`, skipping items that resolve to nothing.

    `fetch(cursor, n)` returns up to n items following the cursor in the listing's own order;
    `id_of` gives an item's id, which is also the next cursor.
    """
    items: list[JsonObject] = []
    while True:
        batch = await fetch(cursor, limit + 1)
        resolved = await resolve(batch)
        for position, item in enumerate(batch):
            item_id = id_of(item)
            cursor = item_id
            if item_id in resolved:
                items.append(resolved[item_id])
            if len(items) == limit:
                more = position < len(batch) - 1 or len(batch) > limit
                return items, str(item_id) if more else None
        if len(batch) <= limit:
            return items, None
