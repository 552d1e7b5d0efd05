"""Lists: accounts you group under a name, their members and their timeline.

Lists are private: every route needs a log-in and only the owner sees or changes a list;
someone else's list answers 404 like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field, StringConstraints
from starlette.responses import Response

from api import contract
from api.auth import Caller
from api.deps import (
    JSON_POST,
    CorrelationId,
    CurrentUser,
    Freshness,
    Paging,
    Services,
    json_body,
    reads,
)
from api.hydration import (
    HYDRATION_PROJECTIONS,
    TweetSources,
    entry_id,
    fill_page,
    hydrate_entries,
)
from api.models import Strict, TweetPage, UserPage, UserSummary
from api.responses import created, json_response, no_content
from api.routes.users import user_list
from api.services import ApiServices
from api.use_cases.collections import CollectionUseCases
from api.use_cases.collections_adapters import collection_use_cases_dependency
from api.use_cases.errors import ListNotFound
from api.views import JsonObject, iso_time
from domain.collections import MAX_LIST_MEMBERS, MAX_LIST_NAME_CHARS
from domain.ids import parse_id
from projections.base import Namespace
from projections.entries import TimelineEntry, earliest_per_original
from projections.lists import (
    StoredList,
    first_members,
    members_key,
    owned_page,
    stored_list,
    stored_lists,
)
from projections.user_timelines import timeline_page_command

router = APIRouter(prefix="/v1/lists", tags=["lists"])

Collections = Annotated[CollectionUseCases, Depends(collection_use_cases_dependency)]
ListIdPath = Annotated[str, Path(max_length=20, description="List id (decimal string)")]
HandlePath = Annotated[str, Path(max_length=64)]
# Writes decide on the caller's own lists: the caller's latest writes are waited for.
WaitsForLists = Annotated[Freshness, Depends(reads("lists"))]
_NO_CONTROL = r"\x00-\x1f\x7f-\x9f"
# What `domain.collections.check_list_name` accepts: no control characters, one that is not
# whitespace, at most 25 characters.
ListName = Annotated[
    str,
    StringConstraints(
        max_length=MAX_LIST_NAME_CHARS,
        pattern=f"^[^{_NO_CONTROL}]*[^\\s{_NO_CONTROL}][^{_NO_CONTROL}]*$",
    ),
]
TIMELINE_PROJECTIONS = ("lists", "user_timelines", *HYDRATION_PROJECTIONS)


class ListRequest(Strict):
    name: ListName = Field(examples=["Astronomers"])


class ListOut(BaseModel):
    id: str
    name: str
    owner: UserSummary
    member_count: int
    created_at: str


class ListPage(BaseModel):
    data: list[ListOut]
    next_cursor: str | None


def list_id_in_path(list_id: str) -> int:
    """The id a path names; a text that cannot be an id names no list (404)."""
    parsed = parse_id(list_id)
    if parsed is None:
        raise ListNotFound(list_id)
    return parsed


def list_view(stored: StoredList, owner: Caller) -> JsonObject:
    return {
        "id": str(stored.list_id),
        "name": stored.name,
        "owner": {
            "id": str(owner.user_id),
            "handle": owner.handle,
            "display_name": owner.display_name,
        },
        "member_count": stored.member_count,
        "created_at": iso_time(stored.created_at_ms),
    }


async def own_list(
    services: ApiServices, lists: Namespace, caller: Caller, list_id: str
) -> StoredList:
    """The caller's list named in the path; 404 for an unknown one or someone else's."""
    found = await stored_list(services.redis, lists, list_id_in_path(list_id))
    if found is None or found.owner_id != caller.user_id:
        raise ListNotFound(list_id)
    return found


@router.post(
    "",
    status_code=201,
    response_model=ListOut,
    responses=contract.created(400, 401, 409, 413, 415),
    dependencies=JSON_POST,
)
async def create_list(
    body: ListRequest,
    caller: CurrentUser,
    collections: Collections,
    correlation_id: CorrelationId = None,
) -> Response:
    """Make a list (a name of 1-25 characters); only you will see it."""
    made = await collections.create_list(caller.user_id, body.name, correlation_id=correlation_id)
    event = made.event
    stored = StoredList(event.list_id, event.owner_id, event.name, event.created_at_ms, 0)
    payload = list_view(stored, caller)
    return created(payload, location=f"/v1/lists/{payload['id']}", position=made.position)


@router.get("", response_model=ListPage, responses=contract.read(401))
async def my_lists(
    caller: CurrentUser,
    services: Services,
    paging: Paging,
    freshness: Annotated[Freshness, Depends(reads("lists"))],
) -> Response:
    """Your lists, newest first."""
    lists = (await services.read_models.namespaces("lists"))["lists"]

    async def fetch(before: int | None, count: int) -> list[int]:
        return await owned_page(services.redis, lists, caller.user_id, count=count, before=before)

    async def resolve(ids: list[int]) -> dict[int, JsonObject]:
        found = await stored_lists(services.redis, lists, ids)
        return {list_id: list_view(stored, caller) for list_id, stored in found.items()}

    data, next_cursor = await fill_page(fetch, resolve, limit=paging.limit, cursor=paging.before)
    return json_response({"data": data, "next_cursor": next_cursor}, headers=freshness.headers())


@router.get("/{list_id}", response_model=ListOut, responses=contract.read(401, 404))
async def get_list(
    list_id: ListIdPath,
    caller: CurrentUser,
    services: Services,
    freshness: Annotated[Freshness, Depends(reads("lists"))],
) -> Response:
    """One of your lists, with its member count."""
    lists = (await services.read_models.namespaces("lists"))["lists"]
    stored = await own_list(services, lists, caller, list_id)
    return json_response(list_view(stored, caller), headers=freshness.headers())


@router.patch(
    "/{list_id}",
    status_code=204,
    responses=contract.written(400, 401, 404, 413, 415),
    dependencies=[Depends(json_body)],
)
async def rename_list(
    list_id: ListIdPath,
    body: ListRequest,
    caller: CurrentUser,
    collections: Collections,
    _fresh: WaitsForLists,
    correlation_id: CorrelationId = None,
) -> Response:
    """Rename one of your lists."""
    position = await collections.rename_list(
        caller.user_id, list_id_in_path(list_id), body.name, correlation_id=correlation_id
    )
    return no_content(position)


@router.delete("/{list_id}", status_code=204, responses=contract.written(400, 401, 404))
async def delete_list(
    list_id: ListIdPath,
    caller: CurrentUser,
    collections: Collections,
    _fresh: WaitsForLists,
    correlation_id: CorrelationId = None,
) -> Response:
    """Delete one of your lists and its memberships (a deleted list is unknown: 404)."""
    position = await collections.delete_list(
        caller.user_id, list_id_in_path(list_id), correlation_id=correlation_id
    )
    return no_content(position)


@router.get("/{list_id}/members", response_model=UserPage, responses=contract.read(401, 404))
async def list_members(
    list_id: ListIdPath,
    caller: CurrentUser,
    services: Services,
    paging: Paging,
    freshness: Annotated[Freshness, Depends(reads("lists", "users"))],
) -> Response:
    """The accounts on one of your lists."""
    spaces = await services.read_models.namespaces("lists", "users")
    stored = await own_list(services, spaces["lists"], caller, list_id)
    key = members_key(spaces["lists"], stored.list_id)
    data, next_cursor = await user_list(services, spaces["users"], key, paging)
    return json_response({"data": data, "next_cursor": next_cursor}, headers=freshness.headers())


@router.put(
    "/{list_id}/members/{handle}", status_code=204, responses=contract.written(400, 401, 404)
)
async def add_member(
    list_id: ListIdPath,
    handle: HandlePath,
    caller: CurrentUser,
    collections: Collections,
    _fresh: WaitsForLists,
    correlation_id: CorrelationId = None,
) -> Response:
    """Put a user on one of your lists (twice is the same as once; at most 500 members)."""
    position = await collections.add_member(
        caller.user_id, list_id_in_path(list_id), handle, correlation_id=correlation_id
    )
    return no_content(position)  # unknown list or handle: 404; a full list: 422


@router.delete(
    "/{list_id}/members/{handle}", status_code=204, responses=contract.written(400, 401, 404)
)
async def remove_member(
    list_id: ListIdPath,
    handle: HandlePath,
    caller: CurrentUser,
    collections: Collections,
    _fresh: WaitsForLists,
    correlation_id: CorrelationId = None,
) -> Response:
    """Take a user off one of your lists (idempotent)."""
    position = await collections.remove_member(
        caller.user_id, list_id_in_path(list_id), handle, correlation_id=correlation_id
    )
    return no_content(position)


@router.get("/{list_id}/timeline", response_model=TweetPage, responses=contract.read(401, 404))
async def list_timeline(
    list_id: ListIdPath,
    caller: CurrentUser,
    services: Services,
    paging: Paging,
    freshness: Annotated[Freshness, Depends(reads(*TIMELINE_PROJECTIONS))],
) -> Response:
    """The newest tweets and retweets of the list's members (a tweet shows once per page)."""
    spaces = await services.read_models.namespaces(*TIMELINE_PROJECTIONS)
    stored = await own_list(services, spaces["lists"], caller, list_id)
    redis = services.redis
    # Bounded: at most MAX_LIST_MEMBERS user timelines, `limit + 1` entries from each.
    members = await first_members(redis, spaces["lists"], stored.list_id, MAX_LIST_MEMBERS)

    async def fetch(before: int | None, count: int) -> list[TimelineEntry]:
        if not members:
            return []
        async with redis.pipeline(transaction=False) as pipe:
            for member in members:
                timeline_page_command(
                    pipe,  # type: ignore[arg-type]
                    spaces["user_timelines"],
                    member,
                    count=count,
                    before=before,
                )
            rows = await pipe.execute()
        merged = sorted((TimelineEntry.parse(m) for row in rows for m in row), reverse=True)
        return merged[:count]

    async def resolve(entries: list[TimelineEntry]) -> dict[int, JsonObject]:
        return await hydrate_entries(
            redis, TweetSources.of(spaces), earliest_per_original(entries), services.profiles
        )

    data, next_cursor = await fill_page(
        fetch, resolve, limit=paging.limit, cursor=paging.before, id_of=entry_id
    )
    return json_response({"data": data, "next_cursor": next_cursor}, headers=freshness.headers())
