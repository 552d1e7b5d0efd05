"""Correlation ids: each request gets one (the client's `X-Correlation-Id`, or a new one),
answered in the same header, set for the events it produces and for its log lines."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.envelope import CORRELATION_ID

HEADER = "x-correlation-id"
ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # anything else is replaced, not echoed
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

log = logging.getLogger("api.requests")


def correlation_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER.encode():
            given: str = value.decode("latin-1")
            if ACCEPTED.match(given):
                return given
    return uuid.uuid4().hex


class CorrelationIds:
    """Outermost middleware: sets the id, answers it, logs each write (reads at debug level)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = correlation_id_of(scope)
        token = CORRELATION_ID.set(correlation_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = correlation_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            method = scope["method"]
            level = logging.INFO if method in WRITES or status >= 500 else logging.DEBUG
            if log.isEnabledFor(level):
                route = scope.get("route")
                log.log(
                    level,
                    "request",
                    extra={
                        "method": method,
                        "path": getattr(route, "path", scope["path"]),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            CORRELATION_ID.reset(token)
