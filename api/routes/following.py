"""Following and unfollowing other users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from api import contract
from api.deps import CorrelationId, CurrentUser, Freshness, UseCasesDep, reads
from api.responses import no_content

router = APIRouter(prefix="/v1/following", tags=["follows"])

HandlePath = Annotated[str, Path(max_length=64)]
WaitsForGraph = Annotated[Freshness, Depends(reads("users", "follow_graph"))]


@router.put("/{handle}", status_code=204, responses=contract.written(400, 401, 404))
async def follow_user(
    handle: HandlePath,
    caller: CurrentUser,
    use_cases: UseCasesDep,
    _fresh: WaitsForGraph,
    correlation_id: CorrelationId = None,
) -> Response:
    """Follow a user (following twice is the same as once)."""
    position = await use_cases.follow(caller.user_id, handle, correlation_id=correlation_id)
    return no_content(position)  # unknown handle: 404; yourself: 422


@router.delete("/{handle}", status_code=204, responses=contract.written(400, 401, 404))
async def unfollow_user(
    handle: HandlePath,
    caller: CurrentUser,
    use_cases: UseCasesDep,
    _fresh: WaitsForGraph,
    correlation_id: CorrelationId = None,
) -> Response:
    """Stop following a user (idempotent)."""
    position = await use_cases.unfollow(caller.user_id, handle, correlation_id=correlation_id)
    return no_content(position)  # unknown handle: 404; yourself: 422
