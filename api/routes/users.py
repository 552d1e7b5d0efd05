"""Accounts: registration, profiles and user timelines."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import CorrelationId, Freshness, Paging, Services, reads
from api.hydration import hydrate_tweets
from api.models import RegisterUserRequest, TweetPage, UserOut
from api.problems import Problem
from api.responses import created, json_response
from api.views import user_view
from domain.commands import RegisterUser
from domain.model import register_user, validate_registration
from domain.text import handle_key
from projections.user_timelines import timeline_length, timeline_page
from projections.users import profiles, user_id_for_handle

router = APIRouter(prefix="/v1/users", tags=["users"])

HandlePath = Annotated[str, Path(max_length=64)]
HANDLE_CLAIM_PREFIX = "chirp:claims:handle:"


@router.post("", status_code=201, response_model=UserOut, responses={409: {}, 422: {}})
async def register(
    body: RegisterUserRequest, services: Services, correlation_id: CorrelationId = None
) -> Response:
    """Register an account; the handle is unique regardless of case."""
    command = validate_registration(RegisterUser(body.handle, body.password, body.display_name))
    user_id = services.ids.next_id()
    claim = HANDLE_CLAIM_PREFIX + handle_key(command.handle)
    # The claim makes the handle unique across API processes before the event exists.
    if not await services.redis.set(claim, user_id, nx=True):
        raise Problem(409, f"handle {command.handle!r} is taken", title="Handle taken")
    try:
        users = (await services.read_models.namespaces("users"))["users"]
        if await user_id_for_handle(services.redis, users, command.handle) is not None:
            raise Problem(409, f"handle {command.handle!r} is taken", title="Handle taken")
        password_hash = await run_in_threadpool(services.passwords.hash, command.password)
        now_ms = time.time_ns() // 1_000_000
        event = register_user(command, user_id=user_id, password_hash=password_hash, now_ms=now_ms)
        position = await services.publisher.publish(
            event, occurred_at_ms=now_ms, correlation_id=correlation_id
        )
    except BaseException:
        await services.redis.delete(claim)
        raise
    payload = {
        "id": str(event.user_id),
        "handle": event.handle,
        "display_name": event.display_name,
        "followers_count": 0,
        "following_count": 0,
        "tweet_count": 0,
    }
    return created(payload, location=f"/v1/users/{event.handle}", position=position)


@router.get("/{handle}", response_model=UserOut, responses={404: {}})
async def get_user(
    handle: HandlePath,
    services: Services,
    freshness: Annotated[Freshness, Depends(reads("users", "user_timelines"))],
) -> Response:
    """A user's profile with follower, following and tweet counts."""
    spaces = await services.read_models.namespaces("users", "user_timelines")
    user_id = await user_id_for_handle(services.redis, spaces["users"], handle)
    found = await profiles(services.redis, spaces["users"], [user_id]) if user_id else {}
    if user_id is None or user_id not in found:
        raise Problem(404, f"no user with handle {handle!r}", title="User not found")
    tweet_count = await timeline_length(services.redis, spaces["user_timelines"], user_id)
    return json_response(
        user_view(found[user_id], tweet_count=tweet_count), headers=freshness.headers()
    )


@router.get("/{handle}/tweets", response_model=TweetPage, responses={404: {}})
async def user_tweets(
    handle: HandlePath,
    services: Services,
    paging: Paging,
    freshness: Annotated[Freshness, Depends(reads("users", "user_timelines", "tweets"))],
) -> Response:
    """A user's own tweets, newest first."""
    spaces = await services.read_models.namespaces("users", "user_timelines", "tweets")
    user_id = await user_id_for_handle(services.redis, spaces["users"], handle)
    if user_id is None:
        raise Problem(404, f"no user with handle {handle!r}", title="User not found")
    tweet_ids, next_before = await timeline_page(
        services.redis, spaces["user_timelines"], user_id, limit=paging.limit, before=paging.before
    )
    data = await hydrate_tweets(
        services.redis, tweets=spaces["tweets"], users=spaces["users"], tweet_ids=tweet_ids
    )
    next_cursor = str(next_before) if next_before is not None else None
    return json_response({"data": data, "next_cursor": next_cursor}, headers=freshness.headers())
