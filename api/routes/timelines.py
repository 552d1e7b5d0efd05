"""The home timeline: what the people you follow posted and retweeted, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api.deps import CurrentUser, Freshness, Paging, Services, reads
from api.hydration import HYDRATION_PROJECTIONS, TweetSources, fill_page, hydrate
from api.models import TweetPage
from api.responses import json_response
from api.views import JsonObject
from domain.ids import sortable_id
from projections.home_timelines import HomeSources, read_home
from projections.user_timelines import timeline_entries

router = APIRouter(prefix="/v1/timelines", tags=["timelines"])

HOME_PROJECTIONS = ("home_timelines", "follow_graph", "user_timelines", *HYDRATION_PROJECTIONS)


@router.get("/home", response_model=TweetPage, responses={401: {}})
async def home(
    caller: CurrentUser,
    services: Services,
    paging: Paging,
    freshness: Annotated[Freshness, Depends(reads(*HOME_PROJECTIONS))],
) -> Response:
    """Your home timeline: entries pushed to you, merged with celebrities' latest at read time."""
    spaces = await services.read_models.namespaces(*HOME_PROJECTIONS)
    sources = HomeSources(
        spaces["home_timelines"], spaces["follow_graph"], spaces["user_timelines"]
    )
    config = services.config
    redis = services.redis

    async def fetch(before: int | None, count: int) -> list[int]:
        stored = await read_home(
            redis,
            sources,
            caller.user_id,
            before=before,
            count=count,
            celebrity_threshold=config.celebrity_threshold,
            inactive_s=config.inactive_s,
        )
        entries = set(stored.entries)
        for celebrity in stored.celebrities:
            entries.update(
                await timeline_entries(
                    redis, spaces["user_timelines"], celebrity, count=count, before=before
                )
            )
        return (await earliest_per_original(sorted(entries, reverse=True)))[:count]

    async def earliest_per_original(entries: list[int]) -> list[int]:
        """A tweet shows once: of several entries for it, the earliest (as pushes keep it)."""
        if not entries:
            return []
        originals = await redis.hmget(
            spaces["user_timelines"].key("retweet_of"), [sortable_id(e) for e in entries]
        )
        earliest: dict[int, int] = {}
        for entry, original in zip(entries, originals, strict=True):
            key = int(original) if original is not None else entry
            earliest[key] = min(entry, earliest.get(key, entry))
        return sorted(earliest.values(), reverse=True)

    async def resolve(ids: list[int]) -> dict[int, JsonObject]:
        return await hydrate(redis, TweetSources.of(spaces), ids)

    data, next_cursor = await fill_page(fetch, resolve, limit=paging.limit, cursor=paging.before)
    return json_response({"data": data, "next_cursor": next_cursor}, headers=freshness.headers())
