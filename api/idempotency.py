"""`Idempotency-Key` on POSTs: a retried request gets the first response, not a second event.

The first request with a key runs and its response (status, headers, body) is kept for a day,
scoped to the caller's credentials and path. The same key with the same body answers that
stored response; with another body, 409 (the key is bound to the first body). A request still
running under the key answers 409 too.
Failures (5xx) are not kept, so a retry after one runs again.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.body_limit import buffered
from api.problems import refusal_for
from projections.redis_client import RedisClient

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 255
PENDING = b"pending"
PENDING_TTL_S = 60
KEEP_S = 24 * 3600
KEY_PREFIX = "chirp:idempotency:"

RedisLookup = Callable[[Scope], RedisClient]


def _digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big") + part)
    return hasher.hexdigest()


class IdempotencyKeys:
    def __init__(self, app: ASGIApp, redis_of: RedisLookup) -> None:
        self.app = app
        self.redis_of = redis_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", ())) if scope["type"] == "http" else {}
        key = headers.get(HEADER)
        if scope["type"] != "http" or scope["method"] != "POST" or key is None:
            await self.app(scope, receive, send)
            return
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            detail = f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters"
            refusal = refusal_for(scope["path"], 422, detail, title="Invalid request")
            await refusal(scope, receive, send)
            return
        body, receive = await buffered(receive)
        path = scope["path"].encode()
        storage_key = KEY_PREFIX + _digest(headers.get(b"authorization", b""), path, key)
        fingerprint = _digest(path, body)
        redis = self.redis_of(scope)

        if not await redis.set(storage_key, PENDING, nx=True, ex=PENDING_TTL_S):
            stored: bytes | None = await redis.get(storage_key)  # type: ignore[assignment]
            await self._answer_from_store(stored, fingerprint, scope, send)
            return

        captured = _CapturedResponse(send)
        try:
            await self.app(scope, receive, captured.send)
        finally:
            if captured.status is not None and captured.status < 500:
                await redis.set(storage_key, captured.stored(fingerprint), ex=KEEP_S)
            else:
                await redis.delete(storage_key)

    async def _answer_from_store(
        self, stored: bytes | None, fingerprint: str, scope: Scope, send: Send
    ) -> None:
        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        if stored is None or stored == PENDING:
            detail = "a request with this Idempotency-Key is still being processed"
            refusal = refusal_for(scope["path"], 409, detail, title="Request in progress")
            await refusal(scope, no_body, send)
            return
        record = orjson.loads(stored)
        if record["fingerprint"] != fingerprint:
            detail = "this Idempotency-Key was used with a different request body"
            refusal = refusal_for(scope["path"], 409, detail, title="Idempotency key reused")
            await refusal(scope, no_body, send)
            return
        replay_headers = [(bytes.fromhex(k), bytes.fromhex(v)) for k, v in record["headers"]]
        replay_headers.append((b"idempotent-replayed", b"true"))
        await send(
            {"type": "http.response.start", "status": record["status"], "headers": replay_headers}
        )
        await send({"type": "http.response.body", "body": base64.b64decode(record["body"])})


class _CapturedResponse:
    """Passes the response through while keeping a copy of it."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
        await self._send(message)

    def stored(self, fingerprint: str) -> bytes:
        return orjson.dumps(
            {
                "fingerprint": fingerprint,
                "status": self.status,
                "headers": [(k.hex(), v.hex()) for k, v in self.headers],
                "body": base64.b64encode(bytes(self.body)).decode(),
            }
        )
