"""Refuses request bodies over the configured size before any handler sees them."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response

TITLE = "Request body too large"


class BodyTooLarge(Exception):
    pass


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
            raise BodyTooLarge
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


class BodySizeLimit:
    """ASGI middleware: 413 for a declared or streamed body over `max_bytes`.

    The body is read here (bounded), then handed to the app unchanged, so a chunked body
    without a Content-Length is refused as surely as a declared one.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        try:
            if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                raise BodyTooLarge
            _, replay = await buffered(receive, self.max_bytes)
        except BodyTooLarge:
            detail = f"request body exceeds {self.max_bytes} bytes"
            await problem_response(413, detail, title=TITLE)(scope, receive, send)
            return
        await self.app(scope, replay, send)
