"""Refuses request bodies over the configured size before any handler sees them.

A refused body is read to its end and discarded (up to `DRAIN_LIMIT_BYTES` and
`DRAIN_TIMEOUT_S`) before the 413 goes out: a client that sends its whole body before
reading the answer (Python's `http.client`, `urllib`) would otherwise find the connection
reset under it when the server closes with unread bytes, and never see the 413. Beyond those
bounds the 413 says `Connection: close` and the server stops reading.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import refusal_for

TITLE = "Request body too large"
DRAIN_LIMIT_BYTES = 32 * 1024 * 1024
DRAIN_TIMEOUT_S = 10.0


class BodyTooLarge(Exception):
    def __init__(self, *, fully_received: bool = False) -> None:
        super().__init__("request body too large")
        self.fully_received = fully_received


async def buffered(receive: Receive, max_bytes: int | None = None) -> tuple[bytes, Receive]:
    """The whole request body, and a `receive` that hands it to the app again.

    Raises `BodyTooLarge` as soon as more than `max_bytes` have arrived.
    """
    chunks: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; the app will see the disconnect
        received += len(message.get("body", b""))
        if max_bytes is not None and received > max_bytes:
            raise BodyTooLarge(fully_received=not message.get("more_body", False))
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


async def discard_rest(receive: Receive, limit_bytes: int, timeout_s: float) -> bool:
    """Read what is left of a request body and drop it; False if it ran past the limits."""
    discarded = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return True  # the end of the body, or the client went away
                discarded += len(message.get("body", b""))
                if discarded > limit_bytes:
                    return False
    except TimeoutError:
        return False


class BodySizeLimit:
    """ASGI middleware: 413 for a declared or streamed body over `max_bytes` (or over the
    limit of the path in `larger_limits`, e.g. uploads).

    The body is read here (bounded), then handed to the app unchanged, so a chunked body
    without a Content-Length is refused as surely as a declared one.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        *,
        larger_limits: dict[str, int] | None = None,
        drain_limit_bytes: int = DRAIN_LIMIT_BYTES,
        drain_timeout_s: float = DRAIN_TIMEOUT_S,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger_limits = larger_limits or {}
        self.drain_limit_bytes = drain_limit_bytes
        self.drain_timeout_s = drain_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        max_bytes = self.larger_limits.get(scope["path"], self.max_bytes)
        try:
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise BodyTooLarge
            _, replay = await buffered(receive, max_bytes)
        except BodyTooLarge as refused:
            keep_open = refused.fully_received or await self._discard_refused_body(
                receive, declared, expects_continue=headers.get(b"expect") == b"100-continue"
            )
            detail = f"request body exceeds {max_bytes} bytes"
            close = None if keep_open else {"Connection": "close"}
            refusal = refusal_for(scope["path"], 413, detail, title=TITLE, headers=close)
            await refusal(scope, receive, send)
            return
        await self.app(scope, replay, send)

    async def _discard_refused_body(
        self, receive: Receive, declared: bytes | None, *, expects_continue: bool
    ) -> bool:
        """Drop the rest of a refused body; False when the connection should close instead."""
        if expects_continue and declared is not None:
            # Nothing read yet, so no `100 Continue` went out: the client sends no body.
            return True
        if declared is not None and declared.isdigit() and int(declared) > self.drain_limit_bytes:
            return False
        return await discard_rest(receive, self.drain_limit_bytes, self.drain_timeout_s)
