"""The caller's bookmarks (`GET /api/v1/bookmarks`) and favourites (`GET /api/v1/favourites`)
as statuses, over the bookmarks read model (through `/v1/bookmarks`) and the likes read model.

Both page older with `max_id` from the `Link` header, as clients follow it; the ids there are
Chirp's cursors (a bookmark's id; for favourites a tweet id), not statuses' ids, as on
Mastodon. Favourites are ordered by tweet, newest tweet first: the likes read model keeps
which tweets a user likes, not when. `since_id` and `min_id` (newer pages) are refused: neither
read model is read upwards.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api.deps import Page
from api.hydration import HYDRATION_PROJECTIONS, TweetSources, hydrate
from api.mastodon.context import Masto, scoped
from api.mastodon.errors import MastodonError, MastodonRoute
from api.mastodon.notifications import links
from api.mastodon.params import Params, params_of
from api.mastodon.statuses_entity import status_entities
from api.responses import body_of, json_response
from api.routes import bookmarks
from api.views import JsonObject
from domain.ids import parse_id
from projections.likes import liked_page

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)

ReadBookmarks = Annotated[Masto, Depends(scoped("read:bookmarks"))]
ReadFavourites = Annotated[Masto, Depends(scoped("read:favourites"))]

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
FAVOURITE_PROJECTIONS = ("likes", *HYDRATION_PROJECTIONS)
REFILLS = 5  # reads one favourites page may make past deleted tweets


def older_page(params: Params) -> Page:
    """`limit` and `max_id`; `since_id`/`min_id` are refused (422)."""
    for name in ("since_id", "min_id"):
        if params.text(name) not in (None, ""):
            raise MastodonError(422, f"Validation failed: {name} is not supported here")
    limit = params.number("limit", DEFAULT_LIMIT)
    max_id = params.text("max_id")
    before = parse_id(max_id) if max_id else None
    if max_id and before is None:
        raise MastodonError(422, "Validation failed: max_id is not an id")
    return Page(max(1, min(limit, MAX_LIMIT)), before)


async def _statuses(context: Masto, views: list[JsonObject]) -> list[JsonObject]:
    return await status_entities(
        context.services,
        views,
        base_url=str(context.request.base_url),
        viewer_id=context.user.user_id,
    )


@router.get("/api/v1/bookmarks")
async def my_bookmarks(context: ReadBookmarks) -> Response:
    """Your bookmarked statuses, newest bookmark first."""
    page = older_page(await params_of(context.request))
    fresh = await context.fresh(*bookmarks.BOOKMARK_PROJECTIONS)
    answer = body_of(await bookmarks.bookmarks(context.user, context.services, page, fresh))
    statuses = await _statuses(context, answer["data"])
    headers = links(context.request, None, answer["next_cursor"]) | fresh.headers()
    return json_response(statuses, headers=headers)


@router.get("/api/v1/favourites")
async def my_favourites(context: ReadFavourites) -> Response:
    """Statuses you favourited, newest status first."""
    page = older_page(await params_of(context.request))
    fresh = await context.fresh(*FAVOURITE_PROJECTIONS)
    services = context.services
    spaces = await services.read_models.namespaces(*FAVOURITE_PROJECTIONS)
    views: list[JsonObject] = []
    before, more = page.before, False
    for _ in range(REFILLS):
        wanted = page.limit - len(views)
        ids = await liked_page(
            services.redis, spaces["likes"], context.user.user_id, count=wanted + 1, before=before
        )
        more = len(ids) > wanted
        ids = ids[:wanted]
        found = await hydrate(services.redis, TweetSources.of(spaces), ids, services.profiles)
        views += [found[tweet_id] for tweet_id in ids if tweet_id in found]
        before = ids[-1] if ids else before
        if not more or len(views) >= page.limit:
            break
        # Some were deleted: read on past them.
    next_max_id = str(before) if more and before is not None else None
    headers = links(context.request, None, next_max_id) | fresh.headers()
    return json_response(await _statuses(context, views), headers=headers)
