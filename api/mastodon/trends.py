"""Trending hashtags on the Mastodon surface (`/api/v1/trends/tags`, and `/api/v1/trends`, its
older name), over the trends read model `/v1/trends` reads, and the Tag entity.

Chirp ranks the tags of its current trend window (`CHIRP_TREND_WINDOW_*`, not a day) by how
fast they rise. A Tag's `history` therefore has one entry: the window's start as its `day`,
and the number of tweets carrying the tag in it as `uses` and as `accounts` (Chirp counts
tweets, not distinct accounts).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter
from starlette.responses import Response

from api.mastodon.context import MastoDep
from api.mastodon.entities import absolute
from api.mastodon.errors import MastodonRoute
from api.mastodon.params import params_of
from api.responses import body_of, json_response
from api.routes import trends
from api.views import JsonObject

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)

DEFAULT_LIMIT = 10
MAX_LIMIT = 20
MOST_TRENDS = 50  # what `/v1/trends` answers at most


def tag_entity(name: str, base_url: str, history: list[JsonObject] | None = None) -> JsonObject:
    return {
        "name": name,
        "url": absolute(base_url, f"/tags/{quote(name)}"),
        "history": history or [],
        "following": False,
    }


def history_of(trend: JsonObject, as_of: str | None, window_seconds: int) -> list[JsonObject]:
    """One entry for the current window (its start in Unix seconds, as Mastodon's `day`)."""
    if as_of is None:
        return []
    end = int(datetime.fromisoformat(as_of).timestamp())
    start = end - end % window_seconds if window_seconds else end
    uses = str(trend["count"])
    return [{"day": str(start), "uses": uses, "accounts": uses}]


async def trending_tags(context: MastoDep, *, limit: int, offset: int = 0) -> list[JsonObject]:
    """The trending tags, rising fastest first, as Tag entities."""
    fresh = await context.fresh("trends")
    answer = body_of(await trends.trends(context.services, fresh, MOST_TRENDS))
    base_url = str(context.request.base_url)
    return [
        tag_entity(
            trend["hashtag"],
            base_url,
            history_of(trend, answer["as_of"], answer["window_seconds"]),
        )
        for trend in answer["data"][offset : offset + limit]
    ]


@router.get("/api/v1/trends/tags")
async def trends_tags(context: MastoDep) -> Response:
    """Hashtags rising fastest in the current window (`limit` up to 20, `offset`)."""
    params = await params_of(context.request)
    limit = max(1, min(params.number("limit", DEFAULT_LIMIT), MAX_LIMIT))
    offset = params.number("offset", 0)
    return json_response(await trending_tags(context, limit=limit, offset=offset))


@router.get("/api/v1/trends")
async def trends_alias(context: MastoDep) -> Response:
    """The older name of `/api/v1/trends/tags`."""
    return await trends_tags(context)


@router.get("/api/v1/trends/statuses")
async def trending_statuses(context: MastoDep) -> Response:
    """Chirp ranks no statuses: none."""
    return json_response([])


@router.get("/api/v1/trends/links")
async def trending_links(context: MastoDep) -> Response:
    """Chirp ranks no links: none."""
    return json_response([])
