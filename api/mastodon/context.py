"""Who a Mastodon-surface request acts for, and the dependencies routes declare with it.

A request's bearer token is an OAuth access token issued by `/oauth/token` (scoped), or a
`/v1` session token (a JWT), which carries every scope: a user's own sessions are not an app
acting for them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import HTTPConnection

from api.auth import Caller, InvalidToken
from api.deps import BearerToken, Freshness, caller_state, reads
from api.mastodon.errors import INVALID_TOKEN, OUTSIDE_SCOPES, MastodonError
from api.mastodon.scopes import KNOWN, allows
from api.mastodon.tokens import Grant, OAuthStore
from api.positions import AFTER_HEADER
from api.services import ApiServices
from api.use_cases.handlers import UseCases
from projections.users import is_erased

SESSION_CLIENT = "chirp-session"  # the client id a `/v1` session token's grant names


def unauthorized(message: str = INVALID_TOKEN) -> MastodonError:
    return MastodonError(401, message, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


@dataclass(frozen=True, slots=True)
class Masto:
    """What a Mastodon route needs: the request, the API's services and use cases, the OAuth
    store, and the grant its bearer token stands for (None without a token)."""

    request: Request
    services: ApiServices
    use_cases: UseCases
    oauth: OAuthStore
    grant: Grant | None

    @property
    def caller(self) -> Caller | None:
        return self.grant.caller if self.grant is not None else None

    @property
    def user(self) -> Caller:
        """The user the token acts for; 401 for none (no token, or an app's own token)."""
        if self.grant is None or self.grant.caller is None:
            raise unauthorized()
        return self.grant.caller

    async def fresh(self, *projections: str) -> Freshness:
        """Waits (bounded) for the caller's own latest writes, as the `/v1` reads do."""
        wait = reads(*projections)
        chirp_after = self.request.headers.get(AFTER_HEADER)  # honoured as on `/v1`
        freshness: Freshness = await wait(
            self.services,
            await caller_state(BearerToken(self.caller), self.services),
            self.request.app.state.lag_watch,
            chirp_after,
        )
        return freshness


def oauth_store(request: Request) -> OAuthStore:
    store: OAuthStore = request.app.state.oauth
    return store


def bearer_token(connection: HTTPConnection) -> str | None:
    """The token of the `Authorization: Bearer` header, if any."""
    scheme, token = get_authorization_scheme_param(connection.headers.get("Authorization"))
    return token if token and scheme.lower() == "bearer" else None


async def grant_of(request: Request, services: ApiServices, oauth: OAuthStore) -> Grant | None:
    """The grant the request's bearer token stands for; 401 for a token that names nobody."""
    token = bearer_token(request)
    return await grant_for(token, services, oauth) if token else None


async def grant_for(token: str, services: ApiServices, oauth: OAuthStore) -> Grant:
    """The grant an OAuth access token or a `/v1` session token stands for; 401 otherwise.
    (The streaming endpoints also take the token from `?access_token=`.)"""
    grant = await oauth.grant(token)
    if grant is None:
        try:
            caller = services.tokens.verify(token)
        except InvalidToken:
            raise unauthorized() from None
        grant = Grant(SESSION_CLIENT, KNOWN, caller, 0)
    if grant.caller is not None:
        # A token outlives its account: an erased account's tokens name nobody (one EXISTS).
        users = (await services.read_models.namespaces("users"))["users"]
        if await is_erased(services.redis, users, grant.caller.user_id):
            raise unauthorized()
    return grant


async def masto(request: Request) -> Masto:
    services: ApiServices = request.app.state.services
    oauth = oauth_store(request)
    grant = await grant_of(request, services, oauth)
    return Masto(request, services, request.app.state.use_cases, oauth, grant)


MastoDep = Annotated[Masto, Depends(masto)]


def scoped(needed: str, *, user: bool = True) -> Callable[..., Awaitable[Masto]]:
    """A dependency: the request's context, refused with 401 without a token (or, with
    `user`, without a user behind it) and 403 when the token lacks the scope `needed`."""

    async def check(context: MastoDep) -> Masto:
        if context.grant is None:
            raise unauthorized()
        if user and context.grant.caller is None:
            raise MastodonError(422, "This method requires an authenticated user")
        if not allows(context.grant.scopes, needed):
            raise MastodonError(403, OUTSIDE_SCOPES)
        return context

    return check
