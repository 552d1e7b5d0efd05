"""Following and unfollowing other users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from api.deps import CorrelationId, CurrentUser, Freshness, Services, reads
from api.responses import no_content
from api.routes.users import existing_user_id
from domain.clock import now_ms
from domain.model import follow, unfollow
from projections.follow_graph import is_following
from projections.home_timelines import hold_for_follow

router = APIRouter(prefix="/v1/following", tags=["follows"])

HandlePath = Annotated[str, Path(max_length=64)]
WaitsForGraph = Annotated[Freshness, Depends(reads("users", "follow_graph"))]


@dataclass(frozen=True, slots=True)
class Edge:
    """The caller and the user named in the path, and whether the caller follows them now."""

    follower: int
    followee: int
    exists: bool


async def edge(
    handle: HandlePath, caller: CurrentUser, services: Services, _fresh: WaitsForGraph
) -> Edge:
    spaces = await services.read_models.namespaces("users", "follow_graph")
    followee = await existing_user_id(services, spaces["users"], handle)
    exists = await is_following(services.redis, spaces["follow_graph"], caller.user_id, followee)
    return Edge(caller.user_id, followee, exists)


FollowEdge = Annotated[Edge, Depends(edge)]


@router.put("/{handle}", status_code=204, responses={404: {}, 422: {}})
async def follow_user(
    target: FollowEdge, services: Services, correlation_id: CorrelationId = None
) -> Response:
    """Follow a user (following twice is the same as once)."""
    event = follow(target.follower, target.followee, now_ms=now_ms())  # yourself: 422
    if target.exists:
        return no_content()
    await hold_for_follow(services.redis, target.follower, target.followee)
    return no_content(await services.publisher.publish(event, correlation_id=correlation_id))


@router.delete("/{handle}", status_code=204, responses={404: {}, 422: {}})
async def unfollow_user(
    target: FollowEdge, services: Services, correlation_id: CorrelationId = None
) -> Response:
    """Stop following a user (idempotent)."""
    event = unfollow(target.follower, target.followee, now_ms=now_ms())  # yourself: 422
    if not target.exists:
        return no_content()
    await hold_for_follow(services.redis, target.follower, target.followee)
    return no_content(await services.publisher.publish(event, correlation_id=correlation_id))
