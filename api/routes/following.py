"""Following and unfollowing other users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from api.deps import CorrelationId, CurrentUser, Freshness, Services, reads
from api.responses import no_content
from api.routes.users import existing_user_id
from domain.clock import now_ms
from domain.model import follow, unfollow
from projections.follow_graph import is_following

router = APIRouter(prefix="/v1/following", tags=["follows"])

HandlePath = Annotated[str, Path(max_length=64)]
WaitsForGraph = Annotated[Freshness, Depends(reads("users", "follow_graph"))]


@router.put("/{handle}", status_code=204, responses={404: {}, 422: {}})
async def follow_user(
    handle: HandlePath,
    caller: CurrentUser,
    services: Services,
    _fresh: WaitsForGraph,
    correlation_id: CorrelationId = None,
) -> Response:
    """Follow a user (following twice is the same as once)."""
    spaces = await services.read_models.namespaces("users", "follow_graph")
    followee = await existing_user_id(services, spaces["users"], handle)
    event = follow(caller.user_id, followee, now_ms=now_ms())
    if await is_following(services.redis, spaces["follow_graph"], caller.user_id, followee):
        return no_content()
    return no_content(await services.publisher.publish(event, correlation_id=correlation_id))


@router.delete("/{handle}", status_code=204, responses={404: {}, 422: {}})
async def unfollow_user(
    handle: HandlePath,
    caller: CurrentUser,
    services: Services,
    _fresh: WaitsForGraph,
    correlation_id: CorrelationId = None,
) -> Response:
    """Stop following a user (idempotent)."""
    spaces = await services.read_models.namespaces("users", "follow_graph")
    followee = await existing_user_id(services, spaces["users"], handle)
    event = unfollow(caller.user_id, followee, now_ms=now_ms())
    if not await is_following(services.redis, spaces["follow_graph"], caller.user_id, followee):
        return no_content()
    return no_content(await services.publisher.publish(event, correlation_id=correlation_id))
