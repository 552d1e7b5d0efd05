"""Search on the Mastodon surface (`GET /api/v2/search`): accounts through `/v1/search/users`,
statuses through `/v1/search/tweets` (the same index, newest first), hashtags from the index
and the trends read model.

- `accounts`: handles and display-name words starting with `q` (a leading `@`, and an
  `@domain` after the handle, are dropped: every account is local).
- `statuses`: words, `"phrases"`, `#tags` and `from:handle`, all matching, newest first;
  `max_id` pages older. `offset` is honoured by reading past that many (at most 200).
- `hashtags`: the tag `q` names, when a tweet carries it, then the trending tags starting with
  it. Chirp keeps no directory of every tag ever used.
`resolve` is accepted: there is nothing remote to resolve.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.responses import Response

from api.deps import BearerToken, caller_state
from api.mastodon.context import Masto, MastoDep
from api.mastodon.entities import account_entity
from api.mastodon.errors import OUTSIDE_SCOPES, MastodonError, MastodonRoute
from api.mastodon.params import params_of
from api.mastodon.scopes import allows
from api.mastodon.statuses_entity import status_entities
from api.mastodon.trends import MOST_TRENDS, history_of, tag_entity
from api.positions import AFTER_HEADER
from api.responses import body_of, json_response
from api.routes import search, trends
from api.views import JsonObject
from domain.ids import parse_id
from domain.search import InvalidSearchQuery

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)

TYPES = ("accounts", "statuses", "hashtags")
DEFAULT_LIMIT = 20
MAX_LIMIT = 40
MAX_OFFSET = 200
TAG = re.compile(r"^#?([^\W_][\w]*|_[\w]*)$")


async def searcher(context: MastoDep) -> Masto:
    """Search answers without a token too (as Mastodon does); a token must carry
    `read:search`."""
    if context.grant is not None and not allows(context.grant.scopes, "read:search"):
        raise MastodonError(403, OUTSIDE_SCOPES)
    return context


Searcher = Annotated[Masto, Depends(searcher)]


@router.get("/api/v2/search")
async def search_v2(context: Searcher) -> Response:
    """Accounts, statuses and hashtags matching `q` (one kind with `type`)."""
    params = await params_of(context.request)
    q = (params.text("q") or "").strip()
    if not q:
        raise MastodonError(422, "Validation failed: q can't be blank")
    kind = params.text("type")
    if kind not in (None, "", *TYPES):
        raise MastodonError(422, f"Validation failed: type must be one of {', '.join(TYPES)}")
    limit = max(1, min(params.number("limit", DEFAULT_LIMIT), MAX_LIMIT))
    offset = params.number("offset", 0)
    if offset and context.caller is None:
        raise MastodonError(401, "Search queries with offset require a logged-in user")
    if offset > MAX_OFFSET:
        raise MastodonError(422, f"Validation failed: offset is at most {MAX_OFFSET}")
    params.flag("resolve")  # accepted (validated): nothing is remote
    max_text = params.text("max_id")
    max_id = parse_id(max_text) if max_text else None
    if max_text and max_id is None:
        raise MastodonError(422, "Validation failed: max_id is not an id")
    wanted = (kind,) if kind else TYPES
    found: dict[str, list[JsonObject]] = {name: [] for name in TYPES}
    if "accounts" in wanted:
        found["accounts"] = await _accounts(context, q, limit, offset)
    if "statuses" in wanted:
        found["statuses"] = await _statuses(context, q, limit, offset, max_id)
    if "hashtags" in wanted:
        found["hashtags"] = await _hashtags(context, q, limit, offset)
    return json_response(found)


async def _accounts(context: Masto, q: str, limit: int, offset: int) -> list[JsonObject]:
    name = q.removeprefix("@").partition("@")[0]
    if not name.strip():
        return []
    try:
        query = search.SearchUsersQuery(q=name[:64], limit=limit, cursor=str(offset) or None)
    except ValidationError:
        return []  # no handle or name starts so
    fresh = await context.fresh("users")
    answer = body_of(await search.search_users(query, context.services, fresh))
    base_url = str(context.request.base_url)
    return [account_entity(user, base_url) for user in answer["data"]]


async def _tweet_views(
    context: Masto, q: str, count: int, before: int | None
) -> tuple[list[JsonObject], str | None]:
    """Up to `count` matching tweets below `before`, newest first, and the cursor on."""
    query = search.SearchTweetsQuery(
        q=q, sort="recent", limit=count, cursor=str(before) if before else None
    )
    services = context.services
    index = search.tweet_index(context.request, services)
    fresh = await context.fresh(*search.SEARCH_PROJECTIONS)
    index_fresh = await search.index_freshness(
        services,
        await caller_state(BearerToken(context.caller), services),
        index,
        context.request.headers.get(AFTER_HEADER),
    )
    answer = body_of(await search.search_tweets(query, services, index, fresh, index_fresh))
    return answer["data"], answer["next_cursor"]


async def _statuses(
    context: Masto, q: str, limit: int, offset: int, max_id: int | None
) -> list[JsonObject]:
    try:
        views, _ = await _tweet_views(context, q, min(offset + limit, 100), max_id)
    except (ValidationError, InvalidSearchQuery):
        return []  # a query the tweet search cannot read matches no status
    user = context.caller
    return await status_entities(
        context.services,
        views[offset : offset + limit],
        base_url=str(context.request.base_url),
        viewer_id=user.user_id if user is not None else None,
    )


async def _hashtags(context: Masto, q: str, limit: int, offset: int) -> list[JsonObject]:
    match = TAG.match(q)
    if match is None:
        return []
    name = match.group(1).casefold()
    fresh = await context.fresh("trends")
    try:
        exact, trending = await asyncio.gather(
            _tweet_views(context, f"#{name}", 1, None),
            trends.trends(context.services, fresh, MOST_TRENDS),
        )
    except (ValidationError, InvalidSearchQuery):
        return []  # not a tag Chirp reads
    answer = body_of(trending)
    base_url = str(context.request.base_url)
    tags: dict[str, JsonObject] = {}
    by_name = {trend["hashtag"]: trend for trend in answer["data"]}
    if exact[0]:
        history = (
            history_of(by_name[name], answer["as_of"], answer["window_seconds"])
            if name in by_name
            else []
        )
        tags[name] = tag_entity(name, base_url, history)
    for trend in answer["data"]:
        if trend["hashtag"].startswith(name) and trend["hashtag"] not in tags:
            history = history_of(trend, answer["as_of"], answer["window_seconds"])
            tags[trend["hashtag"]] = tag_entity(trend["hashtag"], base_url, history)
    return list(tags.values())[offset : offset + limit]
