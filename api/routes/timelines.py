"""The home timeline: what the people you follow posted and retweeted, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api import contract
from api.deps import CurrentUser, Freshness, Metrics, Paging, Services, reads
from api.hydration import (
    HYDRATION_PROJECTIONS,
    TweetSources,
    entry_id,
    fill_page,
    hydrate_entries,
)
from api.models import TweetPage
from api.responses import json_response
from api.views import JsonObject
from projections.entries import TimelineEntry
from projections.home_timelines import HomeReadOptions, HomeSources, read_home

router = APIRouter(prefix="/v1/timelines", tags=["timelines"])

HOME_PROJECTIONS = ("home_timelines", "follow_graph", "user_timelines", *HYDRATION_PROJECTIONS)


@router.get("/home", response_model=TweetPage, responses=contract.read(401))
async def home(
    caller: CurrentUser,
    services: Services,
    paging: Paging,
    freshness: Annotated[Freshness, Depends(reads(*HOME_PROJECTIONS))],
    metrics: Metrics,
) -> Response:
    """Your home timeline: entries pushed to you, merged with celebrities' latest at read time."""
    spaces = await services.read_models.namespaces(*HOME_PROJECTIONS)
    sources = HomeSources(
        spaces["home_timelines"], spaces["follow_graph"], spaces["user_timelines"]
    )
    options = HomeReadOptions(inactive_s=services.config.inactive_s)
    redis = services.redis

    async def fetch(before: int | None, count: int) -> list[TimelineEntry]:
        return await read_home(
            redis,
            sources,
            caller.user_id,
            before=before,
            count=count,
            options=options,
            on_read=metrics.observe_home_read,
        )

    async def resolve(entries: list[TimelineEntry]) -> dict[int, JsonObject]:
        return await hydrate_entries(redis, TweetSources.of(spaces), entries, services.profiles)

    data, next_cursor = await fill_page(
        fetch, resolve, limit=paging.limit, cursor=paging.before, id_of=entry_id
    )
    return json_response({"data": data, "next_cursor": next_cursor}, headers=freshness.headers())
