"""OAuth 2 as Mastodon clients use it: apps register (`POST /api/v1/apps`), then get tokens
(`POST /oauth/token`: password, client-credentials and authorization-code grants, PKCE
accepted) and revoke them (`POST /oauth/revoke`). The authorize page is in `authorize.py`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from api.mastodon.context import Masto, MastoDep, unauthorized
from api.mastodon.errors import MastodonError, MastodonRoute
from api.mastodon.params import Params, params_of
from api.mastodon.scopes import DEFAULT, UnknownScope, parse_scopes, within
from api.mastodon.tokens import Grant, OAuthApp, pkce_matches
from api.responses import json_response
from api.use_cases.errors import WrongCredentials

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)

OUT_OF_BAND = "urn:ietf:wg:oauth:2.0:oob"
GRANT_TYPES = ("authorization_code", "password", "client_credentials")
MAX_NAME = 200

RequestParams = Annotated[Params, Depends(params_of)]


def oauth_error(status: int, error: str, description: str) -> MastodonError:
    """RFC 6749 §5.2 errors carry a code and a description; `error` is what clients show."""
    return MastodonError(status, description if error == "invalid_request" else error)


def scopes_in(params: Params, name: str, default: frozenset[str]) -> frozenset[str]:
    try:
        return parse_scopes(params.text(name), default=default)
    except UnknownScope as refusal:
        raise MastodonError(422, f"Validation failed: {refusal}") from None


def application_entity(app: OAuthApp, client_secret: str | None = None) -> dict[str, object]:
    entity: dict[str, object] = {
        "id": app.client_id[:16],
        "name": app.name,
        "website": app.website,
        "scopes": sorted(app.scopes),
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": list(app.redirect_uris),
        "vapid_key": "",
    }
    if client_secret is not None:
        entity |= {"client_id": app.client_id, "client_secret": client_secret}
    return entity


@router.post("/api/v1/apps")
async def create_app(context: MastoDep, params: RequestParams) -> Response:
    name = (params.text("client_name") or "").strip()
    if not name or len(name) > MAX_NAME:
        raise MastodonError(422, "Validation failed: Application name can't be blank")
    uris_text = params.texts("redirect_uris") or [OUT_OF_BAND]
    redirect_uris = tuple(uri for text in uris_text for uri in text.split() if uri)
    if not redirect_uris or not all(
        uri == OUT_OF_BAND or uri.partition(":")[0] not in {"", "javascript", "data"}
        for uri in redirect_uris
    ):
        raise MastodonError(422, "Validation failed: Redirect URI must be an absolute URI.")
    scopes = scopes_in(params, "scopes", DEFAULT)
    app, client_secret = await context.oauth.register_app(
        name, redirect_uris, scopes, params.text("website") or None
    )
    return json_response(application_entity(app, client_secret))


@router.get("/api/v1/apps/verify_credentials")
async def verify_app(context: MastoDep) -> Response:
    if context.grant is None:
        raise unauthorized()
    app = await context.oauth.app(context.grant.client_id)
    if app is None:
        return json_response(
            {"name": "Chirp", "website": None, "scopes": sorted(context.grant.scopes)}
        )
    return json_response(application_entity(app))


def token_entity(token: str, grant: Grant) -> dict[str, object]:
    return {
        "access_token": token,
        "token_type": "Bearer",
        "scope": " ".join(sorted(grant.scopes)),
        "created_at": grant.created_at_ms // 1000,
    }


async def client_of(context: Masto, params: Params) -> OAuthApp:
    app = await context.oauth.client(
        params.text("client_id") or "", params.text("client_secret") or ""
    )
    if app is None:
        raise MastodonError(401, "invalid_client")
    return app


async def by_password(context: Masto, app: OAuthApp, params: Params) -> Grant:
    username, password = params.text("username"), params.text("password")
    if not username or not password:
        raise MastodonError(400, "username and password are required")
    try:
        caller = await context.use_cases.authenticate(username, password)
    except WrongCredentials:
        raise MastodonError(400, "invalid_grant") from None
    scopes = scopes_in(params, "scope", app.scopes)
    if not within(scopes, app.scopes):
        raise MastodonError(400, "invalid_scope")
    return Grant(app.client_id, scopes, caller, 0)


async def by_code(context: Masto, app: OAuthApp, params: Params) -> Grant:
    pending = await context.oauth.redeem_code(params.text("code") or "")
    redirect_uri = params.text("redirect_uri") or OUT_OF_BAND
    if pending is None or pending.grant.client_id != app.client_id:
        raise MastodonError(400, "invalid_grant")
    if pending.redirect_uri != redirect_uri:
        raise MastodonError(400, "invalid_grant")
    if pending.code_challenge is not None:
        verifier = params.text("code_verifier") or ""
        if not pkce_matches(pending.code_challenge, pending.code_challenge_method, verifier):
            raise MastodonError(400, "invalid_grant")
    return pending.grant


@router.post("/oauth/token")
async def token(context: MastoDep, params: RequestParams) -> Response:
    grant_type = params.text("grant_type")
    if grant_type not in GRANT_TYPES:
        raise MastodonError(400, "unsupported_grant_type")
    app = await client_of(context, params)
    if grant_type == "password":
        wanted = await by_password(context, app, params)
    elif grant_type == "authorization_code":
        wanted = await by_code(context, app, params)
    else:
        scopes = scopes_in(params, "scope", app.scopes)
        if not within(scopes, app.scopes):
            raise MastodonError(400, "invalid_scope")
        wanted = Grant(app.client_id, scopes, None, 0)
    access_token, grant = await context.oauth.issue(app.client_id, wanted.scopes, wanted.caller)
    return json_response(token_entity(access_token, grant), headers={"Cache-Control": "no-store"})


@router.post("/oauth/revoke")
async def revoke(context: MastoDep, params: RequestParams) -> Response:
    app = await client_of(context, params)
    await context.oauth.revoke(params.text("token") or "", app.client_id)
    return json_response({})


def oauth_metadata(request: Request) -> dict[str, object]:
    base = str(request.base_url).rstrip("/")
    return {
        "issuer": f"{base}/",
        "service_documentation": f"{base}/docs",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": sorted({"read", "write", "follow", "push", "profile"}),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }


@router.get("/.well-known/oauth-authorization-server")
async def authorization_server(request: Request) -> Response:
    return json_response(oauth_metadata(request))
