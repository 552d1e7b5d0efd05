"""Bookmarks: tweets a user saves privately, and the list of them, newest bookmark first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api import contract
from api.deps import CorrelationId, CurrentUser, Freshness, Paging, Services, reads
from api.hydration import HYDRATION_PROJECTIONS, TweetSources, fill_page, hydrate_entries
from api.models import TweetPage
from api.responses import json_response, no_content
from api.routes.tweets import TweetIdPath, tweet_id_in_path
from api.use_cases.collections import CollectionUseCases
from api.use_cases.collections_adapters import collection_use_cases_dependency
from api.views import JsonObject
from projections.bookmarks import Bookmark, bookmarks_page
from projections.entries import TimelineEntry

router = APIRouter(prefix="/v1", tags=["bookmarks"])

Collections = Annotated[CollectionUseCases, Depends(collection_use_cases_dependency)]
# A bookmark names a tweet (anyone's, perhaps posted moments ago: the use case waits for a
# young id) and depends on the caller's own bookmarks, which are waited for.
WaitsForBookmarks = Annotated[Freshness, Depends(reads("tweets", "bookmarks"))]
BOOKMARK_PROJECTIONS = ("bookmarks", *HYDRATION_PROJECTIONS)


@router.put(
    "/tweets/{tweet_id}/bookmark", status_code=204, responses=contract.written(400, 401, 404)
)
async def bookmark_tweet(
    tweet_id: TweetIdPath,
    caller: CurrentUser,
    collections: Collections,
    _fresh: WaitsForBookmarks,
    correlation_id: CorrelationId = None,
) -> Response:
    """Bookmark a tweet, privately (bookmarking twice is the same as once)."""
    position = await collections.bookmark(
        caller.user_id, tweet_id_in_path(tweet_id), correlation_id=correlation_id
    )
    return no_content(position)


@router.delete(
    "/tweets/{tweet_id}/bookmark", status_code=204, responses=contract.written(400, 401, 404)
)
async def remove_bookmark(
    tweet_id: TweetIdPath,
    caller: CurrentUser,
    collections: Collections,
    _fresh: WaitsForBookmarks,
    correlation_id: CorrelationId = None,
) -> Response:
    """Remove a bookmark (idempotent)."""
    position = await collections.remove_bookmark(
        caller.user_id, tweet_id_in_path(tweet_id), correlation_id=correlation_id
    )
    return no_content(position)


@router.get("/bookmarks", response_model=TweetPage, responses=contract.read(401))
async def bookmarks(
    caller: CurrentUser,
    services: Services,
    paging: Paging,
    freshness: Annotated[Freshness, Depends(reads(*BOOKMARK_PROJECTIONS))],
) -> Response:
    """Your bookmarked tweets, newest bookmark first (deleted tweets are left out); the cursor
    is a bookmark's place, not a tweet id."""
    spaces = await services.read_models.namespaces(*BOOKMARK_PROJECTIONS)

    async def fetch(before: int | None, count: int) -> list[Bookmark]:
        return await bookmarks_page(
            services.redis, spaces["bookmarks"], caller.user_id, count=count, before=before
        )

    async def resolve(batch: list[Bookmark]) -> dict[int, JsonObject]:
        entries = [TimelineEntry.tweet(b.tweet_id, b.author_id) for b in batch]
        views = await hydrate_entries(
            services.redis, TweetSources.of(spaces), entries, services.profiles
        )
        return {b.bookmark_id: views[b.tweet_id] for b in batch if b.tweet_id in views}

    data, next_cursor = await fill_page(
        fetch, resolve, limit=paging.limit, cursor=paging.before, id_of=bookmark_id
    )
    return json_response({"data": data, "next_cursor": next_cursor}, headers=freshness.headers())


def bookmark_id(bookmark: Bookmark) -> int:
    return bookmark.bookmark_id
