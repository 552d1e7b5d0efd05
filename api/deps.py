"""Dependencies shared by the routers, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Caller, InvalidToken
from api.positions import decode_token
from api.problems import Problem
from api.services import ApiServices
from api.use_cases.handlers import UseCases
from domain.ids import parse_id


def get_services(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


Services = Annotated[ApiServices, Depends(get_services)]


def get_use_cases(request: Request) -> UseCases:
    use_cases: UseCases = request.app.state.use_cases
    return use_cases


UseCasesDep = Annotated[UseCases, Depends(get_use_cases)]

_bearer = HTTPBearer(auto_error=False)


def current_user(
    services: Services,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise Problem(401, "a bearer token is required", title="Unauthorized", headers=challenge)
    try:
        return services.tokens.verify(credentials.credentials)
    except InvalidToken as error:
        raise Problem(
            401, f"invalid bearer token: {error}", title="Unauthorized", headers=challenge
        ) from error


CurrentUser = Annotated[Caller, Depends(current_user)]
CorrelationId = Annotated[str | None, Header(alias="X-Correlation-Id", max_length=128)]


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    before: int | None


def page(
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page")] = 20,
    cursor: Annotated[str | None, Query(max_length=64, description="From `next_cursor`")] = None,
) -> Page:
    before = None
    if cursor is not None:
        before = parse_id(cursor)
        if before is None:
            raise Problem(422, "cursor is not valid", title="Invalid request")
    return Page(limit=limit, before=before)


Paging = Annotated[Page, Depends(page)]


@dataclass(frozen=True, slots=True)
class Freshness:
    """Whether the projections a read uses had applied the client's `Chirp-After` token."""

    stale: bool

    def headers(self) -> dict[str, str]:
        return {"Chirp-Stale": "true"} if self.stale else {}


def reads(*projections: str) -> Callable[..., Awaitable[Freshness]]:
    """A dependency that honours `Chirp-After` for a read of these projections."""

    async def wait_for_position(
        services: Services,
        chirp_after: Annotated[str | None, Header(alias="Chirp-After", max_length=4096)] = None,
    ) -> Freshness:
        if not chirp_after:
            return Freshness(stale=False)
        positions = decode_token(chirp_after)
        applied = await services.read_models.wait_until_applied(
            projections, positions, services.config.read_wait_default_s
        )
        return Freshness(stale=not applied)

    return wait_for_position
