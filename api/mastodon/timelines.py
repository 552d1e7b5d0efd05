"""Timelines: home, public (local = federated: Chirp is one instance), a hashtag's, a list's,
and an account's statuses, paginated as Mastodon clients expect (`max_id`, `since_id`,
`min_id`, `limit`, `Link`).

Each reads through the `/v1` route that serves the same listing (called in process), or,
for the public timeline, which `/v1` does not offer, the search index's newest tweets. Never
keeps a listing of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api.deps import BearerToken, Freshness, Page, caller_state
from api.hydration import HYDRATION_PROJECTIONS, TweetSources, hydrate
from api.mastodon.context import Masto, MastoDep, scoped
from api.mastodon.errors import OUTSIDE_SCOPES, MastodonError, MastodonRoute
from api.mastodon.paging import Reader, Window, page_headers, read_window
from api.mastodon.params import Params, params_of
from api.mastodon.scopes import allows
from api.mastodon.statuses_entity import original_of, status_entities
from api.responses import body_of, json_response
from api.routes import lists, search, timelines, users
from api.use_cases.errors import UserNotFound
from api.views import JsonObject
from domain.ids import parse_id
from domain.search import InvalidSearchQuery
from projections.users import profiles

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)


def readable_with(needed: str) -> Callable[..., Awaitable[Masto]]:
    """A dependency for what anyone may read: no token is needed, but a token given must
    hold the scope `needed` (403 otherwise), as on Mastodon."""

    async def check(context: MastoDep) -> Masto:
        if context.grant is not None and not allows(context.grant.scopes, needed):
            raise MastodonError(403, OUTSIDE_SCOPES)
        return context

    return check


ReadStatuses = Annotated[Masto, Depends(scoped("read:statuses"))]
PublicStatuses = Annotated[Masto, Depends(readable_with("read:statuses"))]
ReadLists = Annotated[Masto, Depends(scoped("read:lists"))]

V1Listing = Callable[[Page], Awaitable[Response]]


def v1_reader(listing: V1Listing) -> Reader:
    """A `/v1` listing route (`{data, next_cursor}`), called in process, as a `Reader`."""

    async def read(before: int | None, count: int) -> tuple[list[JsonObject], int | None]:
        body = body_of(await listing(Page(count, before)))
        cursor = body["next_cursor"]
        return body["data"], int(cursor) if cursor is not None else None

    return read


def has_media(view: JsonObject) -> bool:
    return bool(original_of(view).get("media"))


async def statuses_page(
    context: Masto,
    params: Params,
    read: Reader,
    *,
    fresh: Freshness,
    keep: Callable[[JsonObject], bool] | None = None,
) -> Response:
    """The window the request asks for, as statuses the caller sees, with `Link`."""
    filters = [keep] if keep is not None else []
    if params.flag("only_media"):
        filters.append(has_media)

    def kept(view: JsonObject) -> bool:
        return all(accepts(view) for accepts in filters)

    sliced = await read_window(read, Window.of(params), kept if filters else None)
    statuses = await status_entities(
        context.services,
        sliced.views,
        base_url=str(context.request.base_url),
        viewer_id=context.caller.user_id if context.caller is not None else None,
    )
    headers = page_headers(context.request, statuses, sliced.next_max_id) | fresh.headers()
    return json_response(statuses, headers=headers)


def empty_page() -> Response:
    return json_response([])


@router.get("/api/v1/timelines/home")
async def home(context: ReadStatuses) -> Response:
    """What the caller's followees posted and reblogged, newest first."""
    params = await params_of(context.request)
    fresh = await context.fresh(*timelines.HOME_PROJECTIONS)
    metrics = context.request.app.state.metrics

    async def listing(page: Page) -> Response:
        return await timelines.home(context.user, context.services, page, fresh, metrics)

    return await statuses_page(context, params, v1_reader(listing), fresh=fresh)


@router.get("/api/v1/timelines/public")
async def public(context: PublicStatuses) -> Response:
    """Every status posted here, newest first (reblogs are not listed, as on Mastodon);
    local and federated are the same, and `remote=true` is empty."""
    params = await params_of(context.request)
    if params.flag("remote"):
        return empty_page()
    services = context.services
    index = search.tweet_index(context.request, services)
    fresh = await context.fresh(*HYDRATION_PROJECTIONS)
    index_fresh = await search.index_freshness(
        services, await caller_state(BearerToken(context.caller), services), index
    )
    spaces = await services.read_models.namespaces(*HYDRATION_PROJECTIONS)

    async def read(before: int | None, count: int) -> tuple[list[JsonObject], int | None]:
        ids = await asyncio.to_thread(index.latest, limit=count, before=before)
        views = await hydrate(services.redis, TweetSources.of(spaces), ids, services.profiles)
        more = ids[-1] if len(ids) == count else None
        return [views[tweet_id] for tweet_id in ids if tweet_id in views], more

    both = Freshness(stale=fresh.stale or index_fresh.stale)
    return await statuses_page(context, params, read, fresh=both)


@router.get("/api/v1/timelines/tag/{hashtag}")
async def tag(hashtag: str, context: PublicStatuses) -> Response:
    """The statuses with a hashtag, newest first (from the search index)."""
    params = await params_of(context.request)
    if params.flag("remote"):
        return empty_page()
    services = context.services
    index = search.tweet_index(context.request, services)
    fresh = await context.fresh(*search.SEARCH_PROJECTIONS)
    index_fresh = await search.index_freshness(
        services, await caller_state(BearerToken(context.caller), services), index
    )
    words = hashtag.lstrip("#")

    async def listing(page: Page) -> Response:
        query = search.SearchTweetsQuery(
            q=f"#{words}",
            sort="recent",
            limit=page.limit,
            cursor=str(page.before) if page.before is not None else None,
        )
        return await search.search_tweets(query, services, index, fresh, index_fresh)

    try:
        return await statuses_page(
            context, params, v1_reader(listing), fresh=Freshness(fresh.stale or index_fresh.stale)
        )
    except InvalidSearchQuery:  # no status can carry a tag that cannot be one
        return empty_page()


@router.get("/api/v1/timelines/list/{list_id}")
async def list_timeline(list_id: str, context: ReadLists) -> Response:
    """The statuses and reblogs of a list's members, newest first (the caller's own lists)."""
    params = await params_of(context.request)
    fresh = await context.fresh(*lists.TIMELINE_PROJECTIONS)

    async def listing(page: Page) -> Response:
        return await lists.list_timeline(list_id, context.user, context.services, page, fresh)

    return await statuses_page(context, params, v1_reader(listing), fresh=fresh)


@router.get("/api/v1/accounts/{account_id}/statuses")
async def account_statuses(account_id: str, context: PublicStatuses) -> Response:
    """An account's statuses and reblogs, newest first; `exclude_replies`, `exclude_reblogs`,
    `only_media` and `tagged` filter them; nothing is pinned on Chirp."""
    params = await params_of(context.request)
    services = context.services
    user_id = parse_id(account_id)
    users_space = (await services.read_models.namespaces("users"))["users"]
    found = await profiles(services.redis, users_space, [user_id]) if user_id else {}
    if user_id is None or user_id not in found:
        raise UserNotFound(account_id)
    if params.flag("pinned"):
        return empty_page()
    handle = found[user_id].handle
    fresh = await context.fresh("user_timelines", *HYDRATION_PROJECTIONS)
    filters = account_filters(params)

    async def listing(page: Page) -> Response:
        return await users.user_tweets(handle, services, page, fresh)

    def keep(view: JsonObject) -> bool:
        return all(accepts(view) for accepts in filters)

    return await statuses_page(
        context, params, v1_reader(listing), fresh=fresh, keep=keep if filters else None
    )


def account_filters(params: Params) -> list[Callable[[JsonObject], bool]]:
    filters: list[Callable[[JsonObject], bool]] = []
    if params.flag("exclude_replies"):
        # Every reply (Mastodon keeps an account's replies to itself: not told apart here).
        filters.append(lambda view: bool(view.get("retweet_of")) or view.get("reply_to") is None)
    if params.flag("exclude_reblogs"):
        filters.append(lambda view: not view.get("retweet_of"))
    tagged = (params.text("tagged") or "").lstrip("#").casefold()
    if tagged:
        filters.append(lambda view: tagged in original_of(view).get("hashtags", []))
    return filters
