"""The body-size limit reads a refused body to its end (bounded) before it answers 413."""

from __future__ import annotations

from typing import Any

from starlette.types import Message, Receive, Scope, Send

from api.body_limit import BodySizeLimit

CHUNK = b"x" * 1024


class Upload:
    """A client's request body as ASGI messages; counts how many the server took."""

    def __init__(self, chunks: int) -> None:
        self.left = chunks
        self.taken = 0

    async def receive(self) -> Message:
        self.taken += 1
        self.left -= 1
        return {"type": "http.request", "body": CHUNK, "more_body": self.left > 0}


class Answer:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.messages[0]["headers"])


async def app_that_must_not_run(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("the app saw a refused body")


def request(**headers: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/v1/tweets",
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


async def refuse(upload: Upload, drain_limit_bytes: int = 64 * 1024, **headers: str) -> Answer:
    limit = BodySizeLimit(app_that_must_not_run, 4 * 1024, drain_limit_bytes=drain_limit_bytes)
    answer = Answer()
    await limit(request(**headers), upload.receive, answer.send)
    return answer


async def test_a_declared_oversized_body_is_read_to_its_end_before_the_413() -> None:
    upload = Upload(chunks=20)
    answer = await refuse(upload, content_length=str(20 * len(CHUNK)))
    assert answer.status == 413
    assert upload.left == 0
    assert b"connection" not in answer.headers  # the connection stays usable


async def test_a_chunked_oversized_body_is_read_to_its_end_before_the_413() -> None:
    upload = Upload(chunks=20)
    answer = await refuse(upload)
    assert answer.status == 413
    assert upload.left == 0


async def test_a_body_past_the_drain_limit_is_not_read_and_the_connection_closes() -> None:
    upload = Upload(chunks=1000)
    answer = await refuse(upload, drain_limit_bytes=16 * 1024, content_length=str(1000 * 1024))
    assert answer.status == 413
    assert upload.taken == 0
    assert answer.headers[b"connection"] == b"close"


async def test_a_chunked_body_past_the_drain_limit_stops_being_read() -> None:
    upload = Upload(chunks=1000)
    answer = await refuse(upload, drain_limit_bytes=16 * 1024)
    assert answer.status == 413
    assert upload.taken < 30
    assert answer.headers[b"connection"] == b"close"


async def test_a_client_waiting_for_100_continue_is_answered_without_reading() -> None:
    upload = Upload(chunks=20)
    answer = await refuse(upload, content_length=str(20 * len(CHUNK)), expect="100-continue")
    assert answer.status == 413
    assert upload.taken == 0  # reading would have told it to send the body
