"""Log-in: a handle and password exchanged for a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import Caller
from api.deps import Freshness, Services, reads
from api.models import SessionRequest, SessionResponse
from api.problems import Problem
from api.responses import json_response
from projections.users import password_hash, profiles, user_id_for_handle

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


@router.post("", response_model=SessionResponse, responses={401: {}})
async def log_in(
    body: SessionRequest,
    services: Services,
    _: Annotated[Freshness, Depends(reads("users"))],
) -> Response:
    """Exchange a handle and password for a bearer token."""
    users = (await services.read_models.namespaces("users"))["users"]
    user_id = await user_id_for_handle(services.redis, users, body.handle)
    stored = await password_hash(services.redis, users, user_id) if user_id else None
    valid = stored is not None and await run_in_threadpool(
        services.passwords.verify, stored, body.password
    )
    if user_id is None or not valid:
        raise Problem(
            401,
            "handle or password is wrong",
            title="Unauthorized",
            headers={"WWW-Authenticate": "Bearer"},
        )
    profile = (await profiles(services.redis, users, [user_id]))[user_id]
    token = services.tokens.issue(
        Caller(user_id=user_id, handle=profile.handle, display_name=profile.display_name)
    )
    return json_response(
        {"access_token": token, "token_type": "bearer", "expires_in": services.tokens.ttl_s}
    )
