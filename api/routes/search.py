"""Search: tweets by words, phrases, hashtags and author (the tantivy index), users by prefix.

Tweets come from the search index (written by `chirp indexer`, read here) as ids, then go
through the same hydration as every timeline, so a deleted tweet is never shown even before
the index has dropped it. Users come from the users projection's prefix index.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.responses import Response

from api import contract
from api.deps import CallerStateDep, CursorText, Freshness, Services, reads
from api.hydration import HYDRATION_PROJECTIONS, TweetSources, hydrate_entries
from api.models import TweetPage, UserPage
from api.positions import ChirpAfter, decode_token
from api.responses import json_response
from api.views import JsonObject, user_summary
from domain.search import MAX_QUERY_CHARS, parse_search_query
from projections.entries import TimelineEntry
from projections.search_index import Hit, TweetIndexReader
from projections.users import (
    name_prefix,
    profiles,
    searchable_names,
    user_id_for_handle,
    users_by_name_prefix,
)
from schemas.log import Position

router = APIRouter(prefix="/v1/search", tags=["search"])

SEARCH_PROJECTIONS = HYDRATION_PROJECTIONS  # the users projection resolves `from:` too
INDEX_POLL_S = 0.01
MAX_USER_OFFSET = 10_000
MAX_BATCHES = 5  # batches of hits one page may read


class SearchTweetsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description='Words, `"quoted phrases"`, `#hashtag` and `from:handle`; all must match',
    )
    sort: Literal["recent", "relevance"] = Field(
        default="recent", description="Newest first, or best match first"
    )
    limit: int = Field(default=20, ge=1, le=100, description="Items per page")
    cursor: CursorText | SkipJsonSchema[None] = Field(
        default=None, description="From `next_cursor`"
    )


class SearchUsersQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"\S",
        description="The start of a handle or of a word of a display name",
    )
    limit: int = Field(default=20, ge=1, le=100, description="Items per page")
    cursor: CursorText | SkipJsonSchema[None] = Field(
        default=None, description="From `next_cursor`"
    )


def tweet_index(request: Request, services: Services) -> TweetIndexReader:
    """This process's reader of the search index, opened on first use."""
    state = request.app.state
    reader: TweetIndexReader | None = getattr(state, "tweet_index", None)
    if reader is None:
        root = services.config.search_index_dir
        if root is None:
            raise RuntimeError("the API was configured without a search index directory")
        reader = state.tweet_index = TweetIndexReader(root)
    return reader


async def tweet_index_dependency(request: Request, services: Services) -> TweetIndexReader:
    return tweet_index(request, services)  # async: a plain `def` dependency costs a thread hop


TweetIndex = Annotated[TweetIndexReader, Depends(tweet_index_dependency)]


async def index_freshness(
    services: Services, state: CallerStateDep, index: TweetIndex, chirp_after: ChirpAfter = None
) -> Freshness:
    """Waits (bounded) until the index has the tweets of `Chirp-After` and the caller's own
    latest writes: the index's positions are committed with it, so this is exact."""
    positions = decode_token(chirp_after) if chirp_after is not None else []
    positions += state.latest_writes
    topic = services.config.topic("tweets")
    wanted = [position for position in positions if position.topic == topic]
    if not wanted:
        return Freshness(stale=False)
    applied = await _wait_for_index(index, wanted, topic, services.config.read_wait_default_s)
    return Freshness(stale=not applied)


async def _wait_for_index(
    index: TweetIndexReader, wanted: list[Position], topic: str, timeout_s: float
) -> bool:
    deadline = time.monotonic() + timeout_s
    while not await asyncio.to_thread(index.applied, wanted, topic):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(INDEX_POLL_S)
    return True


@router.get("/tweets", response_model=TweetPage, responses=contract.read())
async def search_tweets(
    query: Annotated[SearchTweetsQuery, Query()],
    services: Services,
    index: TweetIndex,
    freshness: Annotated[Freshness, Depends(reads(*SEARCH_PROJECTIONS))],
    index_fresh: Annotated[Freshness, Depends(index_freshness)],
) -> Response:
    """Tweets matching words, phrases, #hashtags and from:handle; newest or best first."""
    parsed = parse_search_query(query.q)  # 422 for a query that cannot be read
    spaces = await services.read_models.namespaces(*SEARCH_PROJECTIONS)
    redis = services.redis
    author_ids = [
        user_id
        for handle in parsed.handles
        if (user_id := await user_id_for_handle(redis, spaces["users"], handle)) is not None
    ]
    headers = Freshness(stale=freshness.stale or index_fresh.stale).headers()
    if parsed.handles and not author_ids:
        return json_response({"data": [], "next_cursor": None}, headers=headers)
    by_rank = query.sort == "relevance"

    async def fetch(after: int | None, count: int) -> list[Hit]:
        return await asyncio.to_thread(
            index.search, parsed, author_ids, sort=query.sort, limit=count, after=after
        )

    async def resolve(hits: list[Hit]) -> dict[int, JsonObject]:
        # The index holds originals with their authors: one hydration phase, no tweet reads
        # before it (a tweet deleted since it was indexed resolves to nothing).
        entries = [TimelineEntry.tweet(hit.tweet_id, hit.author_id) for hit in hits]
        views = await hydrate_entries(redis, TweetSources.of(spaces), entries, services.profiles)
        return {
            (hit.rank if by_rank else hit.tweet_id): views[hit.tweet_id]
            for hit in hits
            if hit.tweet_id in views
        }

    def id_of(hit: Hit) -> int:
        return hit.rank if by_rank else hit.tweet_id

    cursor = int(query.cursor) if query.cursor is not None else None
    data, next_cursor = await bounded_page(fetch, resolve, id_of, limit=query.limit, cursor=cursor)
    return json_response({"data": data, "next_cursor": next_cursor}, headers=headers)


async def bounded_page(
    fetch: Callable[[int | None, int], Awaitable[list[Hit]]],
    resolve: Callable[[list[Hit]], Awaitable[dict[int, JsonObject]]],
    id_of: Callable[[Hit], int],
    *,
    limit: int,
    cursor: int | None,
) -> tuple[list[JsonObject], str | None]:
    """Up to `limit` shown hits after `cursor`, like `fill_page`, but reading at most
    `MAX_BATCHES` batches of hits: hits that show nothing (deleted, or indexed before the
    tweets projection has them) end a page early with a cursor, instead of making one request
    walk the whole index."""
    items: list[JsonObject] = []
    for _ in range(MAX_BATCHES):
        batch = await fetch(cursor, limit + 1)
        resolved = await resolve(batch)
        for position, hit in enumerate(batch):
            cursor = id_of(hit)
            if cursor in resolved:
                items.append(resolved[cursor])
            if len(items) == limit:
                more = position < len(batch) - 1 or len(batch) > limit
                return items, str(cursor) if more else None
        if len(batch) <= limit:
            return items, None
    return items, str(cursor)


@router.get("/users", response_model=UserPage, responses=contract.read())
async def search_users(
    query: Annotated[SearchUsersQuery, Query()],
    services: Services,
    freshness: Annotated[Freshness, Depends(reads("users"))],
) -> Response:
    """Users whose handle or a word of whose display name starts with `q`."""
    prefix = name_prefix(query.q)
    users = (await services.read_models.namespaces("users"))["users"]
    redis = services.redis
    offset = int(query.cursor) if query.cursor is not None else 0
    if offset > MAX_USER_OFFSET:
        return json_response({"data": [], "next_cursor": None}, headers=freshness.headers())
    data: list[JsonObject] = []
    while True:
        entries = await users_by_name_prefix(
            redis, users, prefix, offset=offset, count=query.limit + 1
        )
        found = await profiles(redis, users, sorted({user_id for _, user_id in entries}))
        for place, (name, user_id) in enumerate(entries):
            offset += 1
            profile = found.get(user_id)
            if profile is None:
                continue
            # A user matched by several names is listed at the first of them only.
            matching = [
                n
                for n in searchable_names(profile.handle, profile.display_name)
                if n.startswith(prefix)
            ]
            if matching and name == min(matching):
                data.append(user_summary(profile))
            if len(data) == query.limit:
                more = place < len(entries) - 1
                next_cursor = str(offset) if more else None
                return json_response(
                    {"data": data, "next_cursor": next_cursor}, headers=freshness.headers()
                )
        if len(entries) <= query.limit:
            return json_response({"data": data, "next_cursor": None}, headers=freshness.headers())
