"""Your notifications: grouped, newest first; how many are unread; marking them read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema
from starlette.responses import Response

from api import contract
from api.deps import JSON_POST, CorrelationId, CurrentUser, Freshness, Services, UseCasesDep, reads
from api.hydration import HYDRATION_PROJECTIONS, TweetSources, hydrate
from api.models import MarkReadRequest, NotificationPage, UnreadCountOut
from api.problems import Problem
from api.responses import json_response, no_content
from api.services import ApiServices
from api.views import JsonObject, iso_time, user_summary
from domain.errors import InvalidReadMarker
from projections.base import Namespace
from projections.notifications import (
    KINDS,
    GroupPosition,
    group_positions,
    groups_at,
    parse_kinds,
    unread_positions,
)
from projections.tweets import tweets_by_id
from projections.users import profiles

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])

NOTIFICATION_PROJECTIONS = ("notifications", *HYDRATION_PROJECTIONS)
UNREAD_CHECK_LIMIT = 1000  # unread mention/reply/quote groups checked against deletions
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CURSOR_PATTERN = rf"^[0-9]{{1,15}}-({'|'.join(KINDS)})-[0-9]{{1,19}}$"
TYPES_PATTERN = rf"^({'|'.join(KINDS)})(,({'|'.join(KINDS)}))*$"

WaitsForNotifications = Annotated[Freshness, Depends(reads(*NOTIFICATION_PROJECTIONS))]


class NotificationQuery(BaseModel):
    """A notifications list's query: unknown parameters and types are refused (422)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=100, description="Groups per page")
    cursor: Annotated[str, StringConstraints(pattern=CURSOR_PATTERN)] | SkipJsonSchema[None] = (
        Field(default=None, description="From `next_cursor`")
    )
    types: Annotated[str, StringConstraints(pattern=TYPES_PATTERN)] | SkipJsonSchema[None] = Field(
        default=None,
        description=f"Comma-separated types to list, of {', '.join(KINDS)}; all by default",
        examples=["like,retweet"],
    )


@router.get("", response_model=NotificationPage, responses=contract.read(401))
async def list_notifications(
    caller: CurrentUser,
    services: Services,
    query: Annotated[NotificationQuery, Query()],
    freshness: WaitsForNotifications,
) -> Response:
    """Your notifications, one entry per type and target, newest activity first."""
    kinds = parse_kinds(query.types) if query.types is not None else KINDS
    after = GroupPosition.parse(query.cursor) if query.cursor is not None else None
    if kinds is None or (query.cursor is not None and after is None):
        raise Problem(422, "unknown notification type or cursor", title="Invalid request")
    spaces = await services.read_models.namespaces(*NOTIFICATION_PROJECTIONS)
    items: list[JsonObject] = []
    while True:
        wanted = query.limit - len(items)
        batch = await group_positions(
            services.redis,
            spaces["notifications"],
            caller.user_id,
            kinds,
            count=wanted + 1,
            after=after,
        )
        items += await _views(services, spaces, caller.user_id, batch[:wanted])
        if len(batch) <= wanted:
            next_cursor = None
            break
        after = batch[wanted - 1]
        if len(items) == query.limit:
            next_cursor = after.token()
            break
    return json_response({"data": items, "next_cursor": next_cursor}, headers=freshness.headers())


async def _views(
    services: ApiServices,
    spaces: dict[str, Namespace],
    user_id: int,
    positions: list[GroupPosition],
) -> list[JsonObject]:
    """The groups as clients see them; a group about a deleted tweet is not shown."""
    groups = await groups_at(services.redis, spaces["notifications"], user_id, positions)
    targets = sorted({g.target_id for g in groups if g.target_id is not None})
    actors = sorted({actor for g in groups for actor in g.sample_actor_ids})
    tweets, accounts = await asyncio.gather(
        hydrate(services.redis, TweetSources.of(spaces), targets, services.profiles),
        profiles(services.redis, spaces["users"], actors),
    )
    views: list[JsonObject] = []
    for group in groups:
        target = tweets.get(group.target_id) if group.target_id is not None else None
        if group.target_id is not None and target is None:
            continue  # deleted (or not projected yet): never shown
        views.append(
            {
                "type": group.kind,
                "target": target,
                "count": group.count,
                "accounts": [
                    user_summary(accounts[actor])
                    for actor in group.sample_actor_ids
                    if actor in accounts
                ],
                "latest_at": iso_time(group.position.latest_at_ms),
            }
        )
    return views


@router.get("/unread_count", response_model=UnreadCountOut, responses=contract.read(401))
async def unread_count(
    caller: CurrentUser,
    services: Services,
    freshness: Annotated[Freshness, Depends(reads("notifications", "tweets"))],
) -> Response:
    """How many notification groups have activity newer than your read marker."""
    spaces = await services.read_models.namespaces("notifications", "tweets")
    unread, to_check = await unread_positions(
        services.redis, spaces["notifications"], caller.user_id, check_limit=UNREAD_CHECK_LIMIT
    )
    if to_check:
        tweet_ids = [position.target_id for position in to_check]
        live = {
            int(t["id"]) for t in await tweets_by_id(services.redis, spaces["tweets"], tweet_ids)
        }
        unread -= sum(1 for tweet_id in tweet_ids if tweet_id not in live)
    return json_response({"count": unread}, headers=freshness.headers())


@router.post(
    "/read",
    status_code=204,
    responses=contract.written(400, 401, 409, 413, 415),
    dependencies=JSON_POST,
)
async def mark_read(
    body: MarkReadRequest,
    caller: CurrentUser,
    use_cases: UseCasesDep,
    correlation_id: CorrelationId = None,
) -> Response:
    """Mark your notifications read up to a `latest_at` (a marker never moves back)."""
    position = await use_cases.mark_notifications_read(
        caller.user_id, notification_time_ms(body.up_to), correlation_id=correlation_id
    )
    return no_content(position)


def notification_time_ms(text: str) -> int:
    """A `latest_at` as milliseconds since the epoch; 422 unless ISO 8601 with a time zone."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidReadMarker("up_to must be an ISO 8601 time such as a latest_at") from None
    if parsed.tzinfo is None:
        raise InvalidReadMarker("up_to must name its time zone, as latest_at does")
    return (parsed - EPOCH) // timedelta(milliseconds=1)
