"""Rate limits per caller and route family, shared by every API process through Redis.

A caller is the user its bearer token names (a `/v1` session token, or an OAuth access token of
the Mastodon API acting for a user), else its client address. Each request counts
against one limit (a moving window in Redis, the `limits` library): its route family's
(registrations, sessions, media uploads) or else the default one. Every answer carries
`X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds); over the
limit the answer is 429 problem+json with `Retry-After`. Ops endpoints are never limited.
The Mastodon client API's paths (`api.surfaces`) answer in Mastodon's form: the reset is an
ISO 8601 time and a 429 is `{"error": "Too many requests"}`.

Must never fail a request because the limiter's Redis does not answer: such a request goes
through without the headers (failing open), and a warning is logged now and then.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from limits import RateLimitItem, parse
from limits.aio.storage import RedisClusterStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.datastructures import MutableHeaders
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import InvalidToken, TokenIssuer
from api.problems import problem_response
from api.responses import json_response
from api.surfaces import is_mastodon_path

log = logging.getLogger(__name__)

UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
KEY_PREFIX = "chirp:ratelimit"
CLUSTER_SCHEME = "async+redis+cluster://"
MAX_CONNECTIONS = 64  # per API process; a request beyond them goes through unlimited
STORAGE_TIMEOUT_S = 1.0  # then the request goes through unlimited
WARN_EVERY_S = 10.0
LIMIT_HEADER = "X-RateLimit-Limit"
REMAINING_HEADER = "X-RateLimit-Remaining"
RESET_HEADER = "X-RateLimit-Reset"
TITLE = "Too many requests"

# The families with limits of their own, by method and path; everything else is "default".
FAMILY_ROUTES = {
    ("POST", "/v1/users"): "registrations",
    ("POST", "/v1/sessions"): "sessions",
    ("POST", "/v1/media"): "media",
    # The web client's sign-up and log-in forms count as registrations and log-ins too.
    ("POST", "/signup"): "registrations",
    ("POST", "/login"): "sessions",
    # The Mastodon client API's registration, log-ins and uploads.
    ("POST", "/api/v1/accounts"): "registrations",
    ("POST", "/oauth/token"): "sessions",
    ("POST", "/oauth/authorize"): "sessions",
    ("POST", "/api/v1/media"): "media",
    ("POST", "/api/v2/media"): "media",
}
# The web client's own files (stylesheet, scripts, the docs' bundles) are not requests to limit.
UNLIMITED_PREFIXES = ("/static/",)


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """The limit of each route family, in the `limits` notation (`300/5minutes`)."""

    default: str
    registrations: str
    sessions: str
    media: str

    def items(self) -> dict[str, RateLimitItem]:
        """Each family's parsed limit; raises ValueError on a malformed one."""
        return {
            family: parse(getattr(self, family))
            for family in ("default", "registrations", "sessions", "media")
        }


def family_of(method: str, path: str) -> str | None:
    """The route family a request counts against; None for ops endpoints (unlimited)."""
    if path in UNLIMITED_PATHS or path.startswith(UNLIMITED_PREFIXES):
        return None
    return FAMILY_ROUTES.get((method, path.rstrip("/") or "/"), "default")


def open_limiter(
    storage_uri: str, max_connections: int = MAX_CONNECTIONS
) -> MovingWindowRateLimiter:
    """A moving-window limiter on the Redis (or Redis Cluster) the URI names: `async+redis://`
    or `async+redis+cluster://host:port,...`. Connects on first use; `close_limiter` it."""
    kind = RedisClusterStorage if storage_uri.startswith(CLUSTER_SCHEME) else RedisStorage
    storage = kind(
        storage_uri,
        implementation="redispy",
        key_prefix=KEY_PREFIX,
        max_connections=max_connections,
    )
    return MovingWindowRateLimiter(storage)


async def close_limiter(limiter: MovingWindowRateLimiter) -> None:
    """Close the limiter's own Redis client (the library offers no close of its own)."""
    client = getattr(getattr(limiter.storage, "bridge", None), "storage", None)
    if client is not None:
        await client.aclose()


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # Unix time when the oldest hit in the window leaves it

    def headers(self) -> dict[str, str]:
        return {
            LIMIT_HEADER: str(self.limit),
            REMAINING_HEADER: str(max(0, self.remaining)),
            RESET_HEADER: str(math.ceil(self.reset_at)),
        }

    def mastodon_headers(self) -> dict[str, str]:
        """As Mastodon sends them: the reset as an ISO 8601 time."""
        reset = datetime.fromtimestamp(math.ceil(self.reset_at), tz=UTC)
        return {
            **self.headers(),
            RESET_HEADER: reset.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }

    def retry_after_s(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))


class RateLimiter:
    """Counts a caller's request against its family's limit and says what is left."""

    def __init__(self, limiter: MovingWindowRateLimiter, policy: RateLimitPolicy) -> None:
        self.limiter = limiter
        self.items = policy.items()

    async def hit(self, family: str, caller: str) -> Verdict:
        item = self.items[family]
        allowed = await self.limiter.hit(item, family, caller)
        stats = await self.limiter.get_window_stats(item, family, caller)
        return Verdict(allowed, item.amount, stats.remaining, stats.reset_time)


# What the middleware finds in the running app: the limiter (None: limits off) and the issuer
# whose tokens name callers. Both are made in the lifespan, so they are looked up per request.
LimiterLookup = Callable[[Scope], RateLimiter | None]
TokensLookup = Callable[[Scope], TokenIssuer]
# The user an OAuth access token acts for (None: an app's own token, or no such token).
OAuthUserLookup = Callable[[Scope, str], Awaitable[int | None]]


def bearer_of(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def caller_of(scope: Scope, tokens: TokenIssuer) -> str:
    """`user:<id>` for a valid `/v1` session token, else `address:<client host>`."""
    token = bearer_of(scope)
    if token is not None:
        try:
            return f"user:{tokens.verify(token).user_id}"
        except InvalidToken:
            pass
    return address_of(scope)


def address_of(scope: Scope) -> str:
    client = scope.get("client")
    return f"address:{client[0] if client else 'unknown'}"


async def caller_with_oauth(
    scope: Scope, tokens: TokenIssuer, oauth_user_of: OAuthUserLookup | None
) -> str:
    """`caller_of`, where a bearer token that is no session token may be an OAuth access
    token acting for a user (one Redis read): that user is the caller."""
    caller = caller_of(scope, tokens)
    token = bearer_of(scope)
    if caller.startswith("address:") and token is not None and oauth_user_of is not None:
        user_id = await oauth_user_of(scope, token)
        if user_id is not None:
            return f"user:{user_id}"
    return caller


# The JSON APIs: `/v1`, the media files, and the Mastodon client API (`api.mastodon`).
API_PREFIXES = (
    "/v1/",
    "/media/",
    "/openapi.json",
    "/api/",
    "/oauth/",
    "/.well-known/",
    "/nodeinfo/",
)


def is_web_page(path: str) -> bool:
    """A page of the web client, shown to a person (the JSON API is under /v1)."""
    return not path.startswith(API_PREFIXES)


def too_many_requests_page(detail: str, headers: dict[str, str]) -> Response:
    body = (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{TITLE} · Chirp</title><h1>{TITLE}</h1><p role='alert'>{html.escape(detail)}; "
        f"try again in {headers['Retry-After']} seconds.</p><p><a href='/'>Chirp</a></p></html>"
    )
    return HTMLResponse(body, status_code=429, headers=headers)


class RateLimits:
    """ASGI middleware: the outermost layer, so every answer (413s included) gets the headers."""

    def __init__(
        self,
        app: ASGIApp,
        limiter_of: LimiterLookup,
        tokens_of: TokensLookup,
        oauth_user_of: OAuthUserLookup | None = None,
    ) -> None:
        self.app = app
        self.limiter_of = limiter_of
        self.tokens_of = tokens_of
        self.oauth_user_of = oauth_user_of
        self._warned_at = -math.inf

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        family = family_of(scope["method"], scope["path"]) if scope["type"] == "http" else None
        limiter = self.limiter_of(scope) if family is not None else None
        if family is None or limiter is None:
            await self.app(scope, receive, send)
            return
        try:
            async with asyncio.timeout(STORAGE_TIMEOUT_S):
                caller = await caller_with_oauth(scope, self.tokens_of(scope), self.oauth_user_of)
                verdict = await limiter.hit(family, caller)
        except Exception as error:  # noqa: BLE001 - a limiter that fails lets requests through
            self._warn(error)
            await self.app(scope, receive, send)
            return
        mastodon = is_mastodon_path(scope["path"])
        headers = verdict.mastodon_headers() if mastodon else verdict.headers()
        if not verdict.allowed:
            headers["Retry-After"] = str(verdict.retry_after_s())
            detail = f"more than {verdict.limit} requests in the window; retry later"
            if mastodon:
                refusal = json_response({"error": TITLE}, status=429, headers=headers)
            elif is_web_page(scope["path"]):
                refusal = too_many_requests_page(detail, headers)
            else:
                refusal = problem_response(429, detail, title=TITLE, headers=headers)
            await refusal(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in headers.items():
                    response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _warn(self, error: Exception) -> None:
        if time.monotonic() - self._warned_at >= WARN_EVERY_S:
            self._warned_at = time.monotonic()
            log.warning("rate limits not applied: the limiter's Redis failed: %r", error)
