"""Rate limits per caller and route family, shared by every API process through Redis.

A caller is the user its bearer token names, else its client address. Each request counts
against one limit (a moving window in Redis, the `limits` library): its route family's
(registrations, sessions, media uploads) or else the default one. Every answer carries
`X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds); over the
limit the answer is 429 problem+json with `Retry-After`. Ops endpoints are never limited.

Must never fail a request because the limiter's Redis does not answer: such a request goes
through without the headers (failing open), and a warning is logged now and then.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import RedisClusterStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.datastructures import MutableHeaders
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import InvalidToken, TokenIssuer
from api.problems import problem_response

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


def caller_of(scope: Scope, tokens: TokenIssuer) -> str:
    """`user:<id>` for a valid bearer token, else `address:<client host>`."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token:
                try:
                    return f"user:{tokens.verify(token.strip()).user_id}"
                except InvalidToken:
                    pass
            break
    client = scope.get("client")
    return f"address:{client[0] if client else 'unknown'}"


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

    def __init__(self, app: ASGIApp, limiter_of: LimiterLookup, tokens_of: TokensLookup) -> None:
        self.app = app
        self.limiter_of = limiter_of
        self.tokens_of = tokens_of
        self._warned_at = -math.inf

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        family = family_of(scope["method"], scope["path"]) if scope["type"] == "http" else None
        limiter = self.limiter_of(scope) if family is not None else None
        if family is None or limiter is None:
            await self.app(scope, receive, send)
            return
        try:
            async with asyncio.timeout(STORAGE_TIMEOUT_S):
                verdict = await limiter.hit(family, caller_of(scope, self.tokens_of(scope)))
        except Exception as error:  # noqa: BLE001 - a limiter that fails lets requests through
            self._warn(error)
            await self.app(scope, receive, send)
            return
        headers = verdict.headers()
        if not verdict.allowed:
            headers["Retry-After"] = str(verdict.retry_after_s())
            detail = f"more than {verdict.limit} requests in the window; retry later"
            refusal = (
                too_many_requests_page(detail, headers)
                if is_web_page(scope["path"])
                else problem_response(429, detail, title=TITLE, headers=headers)
            )
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
