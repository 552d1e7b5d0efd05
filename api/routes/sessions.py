"""Log-in: a handle and password exchanged for a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api import contract
from api.deps import JSON_POST, Freshness, UseCasesDep, reads
from api.models import SessionRequest, SessionResponse
from api.responses import json_response

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


@router.post(
    "",
    response_model=SessionResponse,
    responses=contract.problems(400, 401, 409, 413, 415, 422),
    dependencies=JSON_POST,
)
async def log_in(
    body: SessionRequest,
    use_cases: UseCasesDep,
    _: Annotated[Freshness, Depends(reads("users"))],
) -> Response:
    """Exchange a handle and password for a bearer token."""
    session = await use_cases.log_in(body.handle, body.password)
    return json_response(
        {
            "access_token": session.access_token,
            "token_type": "bearer",
            "expires_in": session.expires_in_s,
        }
    )
