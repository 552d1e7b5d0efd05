"""Accounts: registration (`POST /api/v1/accounts`), the caller's own (`verify_credentials`,
`update_credentials`), others by id or handle (`lookup`), their followers and following, and
follows (`follow`, `unfollow`, `relationships`).

Reads call the `/v1` routes and read models; writes the same use cases as `/v1`
(`register`, `follow`, `unfollow`, `update_profile`, `upload_media` for an avatar). The
account's email is private: no entity here carries it. `:id/statuses` is in `statuses.py`."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api.auth import Caller
from api.deps import CorrelationId, Page
from api.mastodon.context import Masto, MastoDep, scoped
from api.mastodon.entities import account_entity
from api.mastodon.errors import NOT_FOUND, MastodonError, MastodonRoute
from api.mastodon.oauth import token_entity
from api.mastodon.params import Params, params_of
from api.positions import POSITION_HEADER, encode_token
from api.responses import body_of, json_response
from api.routes import users
from api.use_cases.errors import EmailTaken, HandleTaken, MediaNotAccepted
from api.views import JsonObject, media_url
from domain.commands import RegisterUser, UpdateProfile
from domain.errors import (
    DomainError,
    InvalidDisplayName,
    InvalidEmail,
    InvalidHandle,
    InvalidPassword,
)
from domain.ids import parse_id
from projections.follow_graph import is_following
from projections.users import UserProfile, profiles

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)

ReadAccounts = Annotated[Masto, Depends(scoped("read:accounts"))]
WriteAccounts = Annotated[Masto, Depends(scoped("write:accounts"))]
ReadFollows = Annotated[Masto, Depends(scoped("read:follows"))]
WriteFollows = Annotated[Masto, Depends(scoped("write:follows"))]
# Registration is an app's act before there is a user: a client-credentials token will do.
AppWriteAccounts = Annotated[Masto, Depends(scoped("write:accounts", user=False))]

DEFAULT_PAGE = 40
MAX_PAGE = 80
MAX_RELATIONSHIPS = 100


def profile_extras(profile: UserProfile | None, base_url: str) -> dict[str, Any]:
    """What an Account shows beyond the `/v1` view: the bio (as the `note` HTML) and avatar."""
    if profile is None:
        return {}
    extras: dict[str, Any] = {"note": note_html(profile.bio)}
    if profile.avatar_media_id is not None:
        extras["avatar"] = media_url(profile.avatar_media_id)
    return extras


def note_html(bio: str) -> str:
    """A plain-text bio as Mastodon's `note`: escaped, paragraphs, line breaks."""
    if not bio:
        return ""
    paragraphs = [part for part in bio.split("\n\n") if part.strip()]
    return "".join(f"<p>{escape(part).replace(chr(10), '<br />')}</p>" for part in paragraphs)


async def profiles_of(context: Masto, user_ids: list[int]) -> dict[int, UserProfile]:
    keys = (await context.services.read_models.namespaces("users"))["users"]
    return await profiles(context.services.redis, keys, user_ids)


async def account_of(context: Masto, user_id: int) -> JsonObject:
    """The Account of a user, from the `/v1` profile (404 for nobody, or an erased account)."""
    fresh = await context.fresh(*users.PROFILE_PROJECTIONS)
    answer = await users.profile_response(context.services, user_id, str(user_id), fresh)
    profile = (await profiles_of(context, [user_id])).get(user_id)
    base = str(context.request.base_url)
    return account_entity(body_of(answer), base, **profile_extras(profile, base))


async def credential_account(context: Masto) -> JsonObject:
    """The caller's own Account, with its `source` (what the profile form edits)."""
    entity = await account_of(context, context.user.user_id)
    profile = (await profiles_of(context, [context.user.user_id])).get(context.user.user_id)
    entity["source"] = {
        "privacy": "public",
        "sensitive": False,
        "language": "",
        "note": profile.bio if profile else "",
        "fields": [],
        "follow_requests_count": 0,
    }
    return entity


def account_id(text: str) -> int:
    parsed = parse_id(text)
    if parsed is None:
        raise MastodonError(404, NOT_FOUND)
    return parsed


async def handle_of(context: Masto, user_id: int) -> str:
    profile = (await profiles_of(context, [user_id])).get(user_id)
    if profile is None:
        raise MastodonError(404, NOT_FOUND)
    return profile.handle


# --- Registration -------------------------------------------------------------------------


class RegistrationRefused(MastodonError):
    """422 with Mastodon's per-field `details` (`ERR_TAKEN`, `ERR_INVALID`, ...)."""

    def __init__(self, field: str, code: str, description: str) -> None:
        super().__init__(422, f"Validation failed: {field.capitalize()} {description}")
        self.details = {field: [{"error": code, "description": description}]}


def _required(params: Params, name: str) -> str:
    value = params.text(name)
    if value is None or not value.strip():
        raise RegistrationRefused(name, "ERR_BLANK", "can't be blank")
    return value


@router.post("/api/v1/accounts")
async def register(context: AppWriteAccounts, correlation_id: CorrelationId = None) -> Response:
    """Register an account and answer a token for it, as `/oauth/token` does."""
    params = await params_of(context.request)
    try:
        username = _required(params, "username").strip()
        email = _required(params, "email")
        password = _required(params, "password")
        if not params.flag("agreement"):
            raise RegistrationRefused("agreement", "ERR_ACCEPTED", "must be accepted")
        registered = await _register(context, username, email, password, correlation_id)
    except RegistrationRefused as refused:
        body = {"error": refused.message, "details": refused.details}
        return json_response(body, status=422)
    event = registered.event
    grant = context.grant
    assert grant is not None  # `scoped` refused a request without one
    caller = Caller(event.user_id, event.handle, event.display_name)
    token, issued = await context.oauth.issue(grant.client_id, grant.scopes, caller)
    return json_response(
        token_entity(token, issued),
        headers={"Cache-Control": "no-store", POSITION_HEADER: encode_token([registered.position])},
    )


async def _register(
    context: Masto, username: str, email: str, password: str, correlation_id: str | None
) -> Any:
    command = RegisterUser(username, password, None, email)
    try:
        return await context.use_cases.register(command, correlation_id=correlation_id)
    except HandleTaken:
        raise RegistrationRefused("username", "ERR_TAKEN", "is already taken") from None
    except EmailTaken:
        raise RegistrationRefused("email", "ERR_TAKEN", "is already taken") from None
    except InvalidHandle as refused:
        raise RegistrationRefused("username", "ERR_INVALID", str(refused)) from None
    except InvalidEmail:
        raise RegistrationRefused("email", "ERR_INVALID", "is invalid") from None
    except InvalidPassword as refused:
        raise RegistrationRefused("password", "ERR_TOO_SHORT", str(refused)) from None


# --- The caller's own account --------------------------------------------------------------


@router.get("/api/v1/accounts/verify_credentials")
async def verify_credentials(context: ReadAccounts) -> Response:
    return json_response(await credential_account(context))


@router.patch("/api/v1/accounts/update_credentials")
async def update_credentials(
    context: WriteAccounts, correlation_id: CorrelationId = None
) -> Response:
    """Change the display name, the bio (`note`) and the avatar (an image upload)."""
    params = await params_of(context.request)
    caller = context.user
    avatar_id = None
    avatar = params.file("avatar")
    if avatar is not None:
        data = await avatar.read()
        try:
            uploaded = await context.use_cases.upload_media(
                caller.user_id, data, None, correlation_id=correlation_id
            )
        except MediaNotAccepted as refused:
            raise MastodonError(422, f"Validation failed: Avatar {refused}") from None
        avatar_id = uploaded.event.media_id
    command = UpdateProfile(
        caller.user_id,
        caller.handle,
        display_name=params.text("display_name"),
        bio=params.text("note"),
        avatar_media_id=avatar_id,
    )
    if command.display_name is not None or command.bio is not None or avatar_id is not None:
        try:
            await context.use_cases.update_profile(command, correlation_id=correlation_id)
        except InvalidDisplayName as refused:
            raise MastodonError(422, f"Validation failed: Display name {refused}") from None
        except DomainError as refused:
            raise MastodonError(422, f"Validation failed: {refused}") from None
    return json_response(await credential_account(context))


# --- Others' accounts ----------------------------------------------------------------------


@router.get("/api/v1/accounts/lookup")
async def lookup(context: MastoDep) -> Response:
    """An account by its handle (`acct`, with or without a leading `@` or this domain)."""
    params = await params_of(context.request)
    acct = (params.text("acct") or "").strip().lstrip("@")
    handle, _, domain = acct.partition("@")
    if not handle or (domain and domain != context.request.url.hostname):
        raise MastodonError(404, NOT_FOUND)
    fresh = await context.fresh(*users.PROFILE_PROJECTIONS)
    answer = await users.get_user(handle, context.services, fresh)
    user_id = int(body_of(answer)["id"])
    profile = (await profiles_of(context, [user_id])).get(user_id)
    base = str(context.request.base_url)
    return json_response(account_entity(body_of(answer), base, **profile_extras(profile, base)))


@router.get("/api/v1/accounts/relationships")
async def relationships(context: ReadFollows) -> Response:
    """The caller's relationship with each account in `id[]`."""
    params = await params_of(context.request)
    ids = [parse_id(text) for text in params.texts("id")[:MAX_RELATIONSHIPS]]
    await context.fresh("follow_graph")
    wanted = list(dict.fromkeys(user_id for user_id in ids if user_id is not None))
    return json_response([await relationship(context, user_id) for user_id in wanted])


@router.get("/api/v1/accounts/{account_id_text}")
async def get_account(account_id_text: str, context: MastoDep) -> Response:
    return json_response(await account_of(context, account_id(account_id_text)))


async def relationship(context: Masto, user_id: int) -> JsonObject:
    me = context.user.user_id
    graph = (await context.services.read_models.namespaces("follow_graph"))["follow_graph"]
    redis = context.services.redis
    following = await is_following(redis, graph, me, user_id)
    followed_by = await is_following(redis, graph, user_id, me)
    return {
        "id": str(user_id),
        "following": following,
        "showing_reblogs": following,
        "notifying": False,
        "languages": None,
        "followed_by": followed_by,
        "blocking": False,
        "blocked_by": False,
        "muting": False,
        "muting_notifications": False,
        "requested": False,
        "requested_by": False,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


@router.post("/api/v1/accounts/{account_id_text}/follow")
async def follow(
    account_id_text: str, context: WriteFollows, correlation_id: CorrelationId = None
) -> Response:
    """Follow an account (again: nothing changes); answers the Relationship."""
    user_id = account_id(account_id_text)
    handle = await handle_of(context, user_id)
    position = await context.use_cases.follow(
        context.user.user_id, handle, correlation_id=correlation_id
    )
    return await relationship_after(context, user_id, position)


@router.post("/api/v1/accounts/{account_id_text}/unfollow")
async def unfollow(
    account_id_text: str, context: WriteFollows, correlation_id: CorrelationId = None
) -> Response:
    """Stop following an account; answers the Relationship."""
    user_id = account_id(account_id_text)
    handle = await handle_of(context, user_id)
    position = await context.use_cases.unfollow(
        context.user.user_id, handle, correlation_id=correlation_id
    )
    return await relationship_after(context, user_id, position)


async def relationship_after(context: Masto, user_id: int, position: Any) -> Response:
    await context.fresh("follow_graph")  # the caller's own write, just made, is waited for
    headers = {POSITION_HEADER: encode_token([position])} if position is not None else None
    return json_response(await relationship(context, user_id), headers=headers)


@router.get("/api/v1/accounts/{account_id_text}/followers")
async def followers(account_id_text: str, context: MastoDep) -> Response:
    """Who follows an account, a page at a time (`max_id`, `limit`; `Link` to the next)."""
    return await graph_page(context, account_id(account_id_text), "followers")


@router.get("/api/v1/accounts/{account_id_text}/following")
async def following(account_id_text: str, context: MastoDep) -> Response:
    """Whom an account follows, a page at a time."""
    return await graph_page(context, account_id(account_id_text), "following")


async def graph_page(context: Masto, user_id: int, relation: str) -> Response:
    params = await params_of(context.request)
    page = Page(limit=_limit(params), before=_cursor(params))
    handle = await handle_of(context, user_id)
    fresh = await context.fresh("users", "follow_graph")
    answer = body_of(
        await users.graph_list(handle, context.services, page, fresh, relation=relation)
    )
    found = await profiles_of(context, [int(view["id"]) for view in answer["data"]])
    base = str(context.request.base_url)
    entities = [
        account_entity(view, base, **profile_extras(found.get(int(view["id"])), base))
        for view in answer["data"]
    ]
    headers = {}
    if answer["next_cursor"] is not None:
        query = urlencode({"limit": page.limit, "max_id": answer["next_cursor"]})
        url = f"{base.rstrip('/')}/api/v1/accounts/{user_id}/{relation}?{query}"
        headers["Link"] = f'<{url}>; rel="next"'
    return json_response(entities, headers=headers)


def _limit(params: Params) -> int:
    return max(1, min(params.number("limit", DEFAULT_PAGE), MAX_PAGE))


def _cursor(params: Params) -> int | None:
    text = params.text("max_id")
    if text in (None, ""):
        return None
    if not text.isdigit() or len(text) > 19:
        raise MastodonError(422, "Validation failed: max_id is not an id")
    return int(text)
