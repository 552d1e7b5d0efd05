"""Lists on the Mastodon surface: the caller's lists (`/api/v1/lists`) and their accounts,
over the same list use cases and lists read model as `/v1/lists`.

A Chirp list has a name and members; Mastodon's `replies_policy` and `exclusive` are answered
with what Chirp does (`list`: a list timeline shows its members' replies; not exclusive: the
members' posts stay on the home timeline) and other values are refused. Unlike Mastodon, Chirp
does not require the caller to follow an account before listing it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api.deps import CorrelationId, Page
from api.mastodon.context import Masto, scoped
from api.mastodon.entities import account_entity
from api.mastodon.errors import NOT_FOUND, MastodonError, MastodonRoute
from api.mastodon.notifications import links
from api.mastodon.params import Params, params_of
from api.responses import body_of, json_response
from api.routes import lists
from api.use_cases.collections import CollectionUseCases
from api.use_cases.collections_adapters import collection_use_cases
from api.views import JsonObject
from domain.ids import parse_id
from projections.users import profiles

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)

ReadLists = Annotated[Masto, Depends(scoped("read:lists"))]
WriteLists = Annotated[Masto, Depends(scoped("write:lists"))]

REPLIES_POLICY = "list"
MAX_LISTS_READ = 20  # pages of 100 lists read for `GET /api/v1/lists` (Mastodon: no paging)
DEFAULT_ACCOUNTS = 40
MAX_ACCOUNTS = 80


def list_entity(view: JsonObject) -> JsonObject:
    """A List from a `/v1` list view."""
    return {
        "id": view["id"],
        "title": view["name"],
        "replies_policy": REPLIES_POLICY,
        "exclusive": False,
    }


def collections_of(context: Masto) -> CollectionUseCases:
    return collection_use_cases(context.request)


def _title(params: Params, *, required: bool) -> str | None:
    title = params.text("title")
    if title is None and required:
        raise MastodonError(422, "Validation failed: Title can't be blank")
    policy = params.text("replies_policy")
    if policy not in (None, "", REPLIES_POLICY):
        raise MastodonError(
            422, "Validation failed: Chirp lists show their members' replies (replies_policy list)"
        )
    if params.get("exclusive") is not None and params.flag("exclusive"):
        raise MastodonError(422, "Validation failed: Chirp lists are not exclusive")
    return title


@router.get("/api/v1/lists")
async def my_lists(context: ReadLists) -> Response:
    """All your lists, newest first."""
    fresh = await context.fresh("lists")
    found: list[JsonObject] = []
    cursor: int | None = None
    for _ in range(MAX_LISTS_READ):
        answer = body_of(
            await lists.my_lists(context.user, context.services, Page(100, cursor), fresh)
        )
        found += [list_entity(view) for view in answer["data"]]
        if answer["next_cursor"] is None:
            break
        cursor = int(answer["next_cursor"])
    return json_response(found, headers=fresh.headers())


@router.post("/api/v1/lists")
async def create_list(context: WriteLists, correlation_id: CorrelationId = None) -> Response:
    """Make a list (a title of 1-25 characters)."""
    title = _title(await params_of(context.request), required=True)
    assert title is not None
    body = lists.ListRequest(name=title)  # 422 for a title Chirp does not take
    answer = await lists.create_list(body, context.user, collections_of(context), correlation_id)
    return json_response(list_entity(body_of(answer)), headers=_position(answer))


def _position(answer: Response) -> dict[str, str]:
    position = answer.headers.get("Chirp-Position")
    return {"Chirp-Position": position} if position else {}


@router.get("/api/v1/lists/{list_id}")
async def get_list(list_id: str, context: ReadLists) -> Response:
    """One of your lists."""
    fresh = await context.fresh("lists")
    answer = await lists.get_list(list_id, context.user, context.services, fresh)
    return json_response(list_entity(body_of(answer)), headers=fresh.headers())


@router.put("/api/v1/lists/{list_id}")
async def update_list(
    list_id: str, context: WriteLists, correlation_id: CorrelationId = None
) -> Response:
    """Rename one of your lists (without a title, it is answered unchanged)."""
    title = _title(await params_of(context.request), required=False)
    fresh = await context.fresh("lists")
    if title is not None:
        body = lists.ListRequest(name=title)
        renamed = await lists.rename_list(
            list_id, body, context.user, collections_of(context), fresh, correlation_id
        )
        current = body_of(await lists.get_list(list_id, context.user, context.services, fresh))
        return json_response(list_entity(current | {"name": title}), headers=_position(renamed))
    answer = await lists.get_list(list_id, context.user, context.services, fresh)
    return json_response(list_entity(body_of(answer)), headers=fresh.headers())


@router.delete("/api/v1/lists/{list_id}")
async def delete_list(
    list_id: str, context: WriteLists, correlation_id: CorrelationId = None
) -> Response:
    """Delete one of your lists."""
    fresh = await context.fresh("lists")
    answer = await lists.delete_list(
        list_id, context.user, collections_of(context), fresh, correlation_id
    )
    return json_response({}, headers=_position(answer))


@router.get("/api/v1/lists/{list_id}/accounts")
async def list_accounts(list_id: str, context: ReadLists) -> Response:
    """The accounts on one of your lists (`limit=0`: all of them, as Mastodon allows)."""
    params = await params_of(context.request)
    asked = params.number("limit", DEFAULT_ACCOUNTS)
    limit = min(asked, MAX_ACCOUNTS) if asked else 100
    max_id = params.text("max_id")
    if max_id not in (None, "") and parse_id(max_id or "") is None:
        raise MastodonError(422, "Validation failed: max_id is not an id")
    fresh = await context.fresh("lists", "users")
    cursor = int(max_id) if max_id else None
    found: list[JsonObject] = []
    while True:
        answer = body_of(
            await lists.list_members(
                list_id, context.user, context.services, Page(limit, cursor), fresh
            )
        )
        found += answer["data"]
        cursor = int(answer["next_cursor"]) if answer["next_cursor"] is not None else None
        if asked or cursor is None:
            break
    base_url = str(context.request.base_url)
    accounts = [account_entity(user, base_url) for user in found]
    next_max_id = str(cursor) if cursor is not None else None
    return json_response(
        accounts, headers=links(context.request, None, next_max_id) | fresh.headers()
    )


async def _handles(context: Masto, params: Params) -> list[str]:
    """The handles of `account_ids[]`; 404 if one names no account (nothing is changed)."""
    ids = params.texts("account_ids")
    if not ids:
        raise MastodonError(422, "Validation failed: account_ids can't be blank")
    parsed = [parse_id(text) for text in ids]
    if any(user_id is None for user_id in parsed):
        raise MastodonError(404, NOT_FOUND)
    wanted = [user_id for user_id in parsed if user_id is not None]
    users = (await context.services.read_models.namespaces("users"))["users"]
    found = await profiles(context.services.redis, users, wanted)
    if any(user_id not in found for user_id in wanted):
        raise MastodonError(404, NOT_FOUND)
    return [found[user_id].handle for user_id in dict.fromkeys(wanted)]


@router.post("/api/v1/lists/{list_id}/accounts")
async def add_accounts(
    list_id: str, context: WriteLists, correlation_id: CorrelationId = None
) -> Response:
    """Put accounts on one of your lists (`account_ids[]`)."""
    params = await params_of(context.request)
    fresh = await context.fresh("lists", "users")
    await lists.get_list(list_id, context.user, context.services, fresh)  # 404 before anything
    positions = []
    for handle in await _handles(context, params):
        answer = await lists.add_member(
            list_id, handle, context.user, collections_of(context), fresh, correlation_id
        )
        positions.append(_position(answer))
    return json_response({}, headers=positions[-1] if positions else {})


@router.delete("/api/v1/lists/{list_id}/accounts")
async def remove_accounts(
    list_id: str, context: WriteLists, correlation_id: CorrelationId = None
) -> Response:
    """Take accounts off one of your lists (`account_ids[]`)."""
    params = await params_of(context.request)
    fresh = await context.fresh("lists", "users")
    await lists.get_list(list_id, context.user, context.services, fresh)
    positions = []
    for handle in await _handles(context, params):
        answer = await lists.remove_member(
            list_id, handle, context.user, collections_of(context), fresh, correlation_id
        )
        positions.append(_position(answer))
    return json_response({}, headers=positions[-1] if positions else {})
