"""Accounts: registration, profiles, user timelines, followers and following."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from api import contract
from api.deps import (
    JSON_POST,
    CorrelationId,
    CurrentUser,
    Freshness,
    Page,
    Paging,
    Services,
    UseCasesDep,
    reads,
)
from api.hydration import (
    HYDRATION_PROJECTIONS,
    TweetSources,
    entry_id,
    fill_page,
    hydrate_entries,
)
from api.models import RegisterUserRequest, TweetPage, UserOut, UserPage
from api.responses import created, json_response
from api.services import ApiServices
from api.use_cases.errors import UserNotFound
from api.views import JsonObject, iso_time, user_summary, user_view
from domain.commands import RegisterUser
from projections.base import Namespace
from projections.entries import TimelineEntry
from projections.follow_graph import graph_counts, user_page
from projections.user_timelines import timeline_entries, tweet_count
from projections.users import profiles, user_id_for_handle

router = APIRouter(prefix="/v1/users", tags=["users"])

HandlePath = Annotated[str, Path(max_length=64)]


async def existing_user_id(services: ApiServices, users: Namespace, handle: str) -> int:
    """The id behind a handle; 404 if nobody has it."""
    user_id = await user_id_for_handle(services.redis, users, handle)
    if user_id is None:
        raise UserNotFound(handle)
    return user_id


@router.post(
    "",
    status_code=201,
    response_model=UserOut,
    responses=contract.created(409, 413, 415),
    dependencies=JSON_POST,
)
async def register(
    body: RegisterUserRequest, use_cases: UseCasesDep, correlation_id: CorrelationId = None
) -> Response:
    """Register an account; the handle is unique regardless of case."""
    command = RegisterUser(body.handle, body.password, body.display_name)
    registered = await use_cases.register(command, correlation_id=correlation_id)
    event = registered.event
    payload = {
        "id": str(event.user_id),
        "handle": event.handle,
        "display_name": event.display_name,
        "created_at": iso_time(event.registered_at_ms),
        "followers_count": 0,
        "following_count": 0,
        "tweet_count": 0,
    }
    return created(payload, location=f"/v1/users/{event.handle}", position=registered.position)


PROFILE_PROJECTIONS = ("users", "user_timelines", "follow_graph")


@router.get("/me", response_model=UserOut, responses=contract.read(401, 404))
async def get_me(
    caller: CurrentUser,
    services: Services,
    freshness: Annotated[Freshness, Depends(reads(*PROFILE_PROJECTIONS))],
) -> Response:
    """Your own profile with follower, following and tweet counts."""
    return await profile_response(services, caller.user_id, caller.handle, freshness)


@router.get("/{handle}", response_model=UserOut, responses=contract.read(404))
async def get_user(
    handle: HandlePath,
    services: Services,
    freshness: Annotated[Freshness, Depends(reads(*PROFILE_PROJECTIONS))],
) -> Response:
    """A user's profile with follower, following and tweet counts."""
    users = (await services.read_models.namespaces("users"))["users"]
    user_id = await existing_user_id(services, users, handle)
    return await profile_response(services, user_id, handle, freshness)


async def profile_response(
    services: ApiServices, user_id: int, handle: str, freshness: Freshness
) -> Response:
    spaces = await services.read_models.namespaces(*PROFILE_PROJECTIONS)
    found = await profiles(services.redis, spaces["users"], [user_id])
    if user_id not in found:
        raise UserNotFound(handle)
    followers, following = await graph_counts(services.redis, spaces["follow_graph"], user_id)
    view = user_view(
        found[user_id],
        tweet_count=await tweet_count(services.redis, spaces["user_timelines"], user_id),
        followers_count=followers,
        following_count=following,
    )
    return json_response(view, headers=freshness.headers())


@router.get("/{handle}/tweets", response_model=TweetPage, responses=contract.read(404))
async def user_tweets(
    handle: HandlePath,
    services: Services,
    paging: Paging,
    freshness: Annotated[Freshness, Depends(reads("user_timelines", *HYDRATION_PROJECTIONS))],
) -> Response:
    """A user's own tweets and retweets, newest first."""
    spaces = await services.read_models.namespaces("user_timelines", *HYDRATION_PROJECTIONS)
    user_id = await existing_user_id(services, spaces["users"], handle)

    async def fetch(before: int | None, count: int) -> list[TimelineEntry]:
        return await timeline_entries(
            services.redis, spaces["user_timelines"], user_id, count=count, before=before
        )

    async def resolve(entries: list[TimelineEntry]) -> dict[int, JsonObject]:
        return await hydrate_entries(
            services.redis, TweetSources.of(spaces), entries, services.profiles
        )

    data, next_cursor = await fill_page(
        fetch, resolve, limit=paging.limit, cursor=paging.before, id_of=entry_id
    )
    return json_response({"data": data, "next_cursor": next_cursor}, headers=freshness.headers())


async def user_list(
    services: Services, users: Namespace, key: str, paging: Paging
) -> tuple[list[JsonObject], str | None]:
    async def fetch(after: int | None, count: int) -> list[int]:
        ids, _ = await user_page(services.redis, key, limit=count, after=after)
        return ids

    async def resolve(ids: list[int]) -> dict[int, JsonObject]:
        found = await profiles(services.redis, users, ids)
        return {user_id: user_summary(profile) for user_id, profile in found.items()}

    return await fill_page(fetch, resolve, limit=paging.limit, cursor=paging.before)


async def graph_list(
    handle: str, services: ApiServices, paging: Page, freshness: Freshness, *, relation: str
) -> Response:
    spaces = await services.read_models.namespaces("users", "follow_graph")
    user_id = await existing_user_id(services, spaces["users"], handle)
    key = spaces["follow_graph"].of(relation, user_id)
    data, next_cursor = await user_list(services, spaces["users"], key, paging)
    return json_response({"data": data, "next_cursor": next_cursor}, headers=freshness.headers())


GraphFreshness = Annotated[Freshness, Depends(reads("users", "follow_graph"))]


@router.get("/{handle}/followers", response_model=UserPage, responses=contract.read(404))
async def followers(
    handle: HandlePath, services: Services, paging: Paging, freshness: GraphFreshness
) -> Response:
    """Who follows this user."""
    return await graph_list(handle, services, paging, freshness, relation="followers")


@router.get("/{handle}/following", response_model=UserPage, responses=contract.read(404))
async def following(
    handle: HandlePath, services: Services, paging: Paging, freshness: GraphFreshness
) -> Response:
    """Whom this user follows."""
    return await graph_list(handle, services, paging, freshness, relation="following")
