"""Dependencies shared by the routers, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from api.auth import Caller, InvalidToken
from api.idempotency import MAX_KEY_LENGTH
from api.lag import LagWatch
from api.metrics import ApiMetrics
from api.positions import ChirpAfter, decode_token
from api.problems import Problem
from api.recent_writes import positions_of, queue_recent_writes
from api.services import ApiServices
from api.use_cases.handlers import UseCases
from projections.users import queue_is_erased
from schemas.log import Position


async def get_services(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


Services = Annotated[ApiServices, Depends(get_services)]


async def get_use_cases(request: Request) -> UseCases:
    use_cases: UseCases = request.app.state.use_cases
    return use_cases


UseCasesDep = Annotated[UseCases, Depends(get_use_cases)]


async def get_lag_watch(request: Request) -> LagWatch:
    lag_watch: LagWatch = request.app.state.lag_watch
    return lag_watch


Lags = Annotated[LagWatch, Depends(get_lag_watch)]


async def get_metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


Metrics = Annotated[ApiMetrics, Depends(get_metrics)]

_bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True, slots=True)
class BearerToken:
    """Whom the request's bearer token names: the caller, or why it names nobody."""

    caller: Caller | None
    refusal: str = "a bearer token is required"


async def bearer_token(request: Request, services: Services) -> BearerToken:
    """The bearer token verified once per request, for routes that require a log-in and for
    reads that need none (those use it only to wait for the caller's own writes)."""
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    if not token or scheme.lower() != "bearer":
        return BearerToken(None)
    try:
        return BearerToken(services.tokens.verify(token))
    except InvalidToken as error:
        return BearerToken(None, f"invalid bearer token: {error}")


Bearer = Annotated[BearerToken, Depends(bearer_token)]


@dataclass(frozen=True, slots=True)
class CallerState:
    """What one round trip says of the bearer token's user, for every dependency of a request
    that needs it: whether the account was erased, and the user's latest writes."""

    bearer: BearerToken
    erased: bool = False
    latest_writes: tuple[Position, ...] = ()


async def caller_state(bearer: Bearer, services: Services) -> CallerState:
    if bearer.caller is None:
        return CallerState(bearer)
    user_id = bearer.caller.user_id
    users = (await services.read_models.namespaces("users"))["users"]
    # Both keys are hash-tagged by the user: one slot, one node, one round trip.
    async with services.redis.pipeline(transaction=False) as pipe:
        queue_is_erased(pipe, users, user_id)
        queue_recent_writes(pipe, user_id)
        erased, members = await pipe.execute()
    return CallerState(bearer, bool(erased), tuple(positions_of(members)))


CallerStateDep = Annotated[CallerState, Depends(caller_state)]


async def current_user(
    state: CallerStateDep,
    # Declares the bearer scheme in the OpenAPI document; `bearer` is what is checked.
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    challenge = {"WWW-Authenticate": "Bearer"}
    caller = state.bearer.caller
    if caller is None:
        raise Problem(401, state.bearer.refusal, title="Unauthorized", headers=challenge)
    # A token outlives its account: an erased account's tokens name nobody.
    if state.erased:
        raise Problem(401, "the account was erased", title="Unauthorized", headers=challenge)
    return caller


CurrentUser = Annotated[Caller, Depends(current_user)]
CURSOR_PATTERN = r"^[0-9]{1,19}$"
# `SkipJsonSchema[None]`: an absent header or parameter is not documented as a `null` value.
# The header as given; `api.correlation` decides what the request's id is (a usable header or
# a new id) and events take theirs from there, so the parameter is not documented per route.
CorrelationId = Annotated[str | None, Header(alias="X-Correlation-Id", include_in_schema=False)]
CursorText = Annotated[str, StringConstraints(pattern=CURSOR_PATTERN)]


async def json_body(
    content_type: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> None:
    """A body sent as anything but JSON is refused with 415 (no type at all is read as JSON)."""
    if content_type is None:
        return
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise Problem(415, "the request body must be application/json")


async def idempotency_key(
    key: Annotated[
        Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEY_LENGTH)]
        | SkipJsonSchema[None],
        Header(
            alias="Idempotency-Key",
            description="A retry with the same key and body gets the first answer again",
        ),
    ] = None,
) -> None:
    """Declares the header in the OpenAPI document; `api.idempotency` acts on it before any
    route runs, with the same limits."""


# The dependencies of every POST with a JSON body.
JSON_POST = [Depends(json_body), Depends(idempotency_key)]


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    before: int | None


class PageQuery(BaseModel):
    """A list's query: an unknown parameter (a misspelt `cursor`) is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=100, description="Items per page")
    cursor: CursorText | SkipJsonSchema[None] = Field(
        default=None, description="From `next_cursor`"
    )


async def page(query: Annotated[PageQuery, Query()]) -> Page:
    # Any 1-19 digit number is a bound in the listing's order: every cursor matching the
    # pattern pages (an unknown one gives a shorter or empty page), none is refused.
    cursor = query.cursor
    return Page(limit=query.limit, before=int(cursor) if cursor is not None else None)


Paging = Annotated[Page, Depends(page)]


@dataclass(frozen=True, slots=True)
class Freshness:
    """Whether the projections a read uses had applied the client's `Chirp-After` token and
    the caller's own latest writes, and were near the end of the log when last measured."""

    stale: bool

    def headers(self) -> dict[str, str]:
        return {"Chirp-Stale": "true"} if self.stale else {}


def reads(*projections: str, own_writes: bool = True) -> Callable[..., Awaitable[Freshness]]:
    """A dependency that waits (bounded) until these projections have applied the
    `Chirp-After` token and, with `own_writes`, the latest writes of the bearer token's user
    (from `caller_state`; none without a token). The answer is stale too while one of them
    is missing or further behind the log than `/readyz` allows (as last measured: no I/O)."""

    async def wait_for_position(
        services: Services,
        state: CallerStateDep,
        lags: Lags,
        chirp_after: ChirpAfter = None,
    ) -> Freshness:
        behind = lags.behind(projections)
        positions = decode_token(chirp_after) if chirp_after is not None else []
        if own_writes:
            positions += state.latest_writes
        if not positions:
            return Freshness(stale=behind)
        read_models = services.read_models
        applied = await read_models.wait_until_applied(
            projections, positions, services.config.read_wait_default_s
        )
        if applied and behind:  # a projection just seen applying is no longer missing
            lags.saw_applied(name for name, _ in read_models.concerned(projections, positions))
            behind = lags.behind(projections)
        return Freshness(stale=behind or not applied)

    return wait_for_position
