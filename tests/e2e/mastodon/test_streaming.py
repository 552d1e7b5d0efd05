"""Mastodon's streaming API driven by Mastodon.py (Server-Sent Events and its WebSocket
support) and by a plain WebSocket client: a followee's post, a favourite of your status, a
deletion, a stranger's post on the public stream, a hashtag stream, and bad input.

The writes go through `/v1` (the streams are what is under test); a stream says it is
subscribed by its first heartbeat (SSE) or by answering a later message (WebSocket), so
nothing is posted before the subscription exists."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pytest
from mastodon import Mastodon, StreamListener
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from infra.app_processes import ApiProcess
from tests.e2e.mastodon.conftest import LogIn
from tests.support.client import PASSWORD, Account, ChirpClient
from tests.support.waiting import wait_for

WAIT_S = 15.0


class Recorder(StreamListener):
    """Everything a stream delivered, for the test thread to wait on."""

    def __init__(self) -> None:
        self.subscribed = threading.Event()
        self.updates: list[tuple[Any, Any]] = []  # (status, stream)
        self.notifications: list[Any] = []
        self.deletes: list[str] = []
        self.errors: list[Any] = []

    def handle_heartbeat(self) -> None:
        self.subscribed.set()

    def on_update(self, status: Any, for_stream: Any = None) -> None:
        self.updates.append((status, for_stream))

    def on_notification(self, notification: Any) -> None:
        self.notifications.append(notification)

    def on_delete(self, status_id: Any) -> None:
        self.deletes.append(str(status_id))

    def on_websocket_error(self, error: Any, for_stream: Any = None) -> None:
        self.errors.append((error, for_stream))

    def update(self, status_id: str) -> Any:
        return self.wait(
            lambda: next((s for s, _ in self.updates if str(s.id) == status_id), None),
            f"update {status_id}",
        )

    def wait(self, check: Callable[[], Any], what: str) -> Any:
        return wait_for(check, timeout_s=WAIT_S, what=what)


@contextmanager
def sse(open_stream: Callable[[Recorder], Any]) -> Iterator[Recorder]:
    """A Mastodon.py SSE stream (in its own thread), subscribed, closed afterwards."""
    recorder = Recorder()
    handle = open_stream(recorder)
    try:
        assert recorder.subscribed.wait(WAIT_S), "the stream never said it was subscribed"
        yield recorder
    finally:
        handle.close()


def test_the_user_stream_hears_a_followee_a_favourite_and_a_deletion(
    client: ChirpClient, masto_user: tuple[Account, Mastodon]
) -> None:
    reader, api = masto_user
    author, stranger = client.register(), client.register()
    client.follow(reader, author)
    with sse(lambda rec: api.stream_user(rec, run_async=True)) as stream:
        unseen = client.tweet(stranger, "not followed, not heard")
        posted = client.tweet(author, "hello #streams from @" + reader.handle)
        status = stream.update(posted["id"])
        assert status.account.acct == author.handle
        assert "hello" in status.content and status.tags[0].name == "streams"
        assert [m.acct for m in status.mentions] == [reader.handle]

        own = client.tweet(reader, "a status worth a star")
        stream.update(own["id"])  # your own statuses are in your home stream too
        assert client.put(f"/v1/tweets/{own['id']}/like", author).status_code == 204
        favourite = stream.wait(
            lambda: next((n for n in stream.notifications if n.type == "favourite"), None),
            "the favourite",
        )
        assert favourite.account.acct == author.handle
        assert str(favourite.status.id) == own["id"]
        mention = next(n for n in stream.notifications if n.type == "mention")
        assert str(mention.status.id) == posted["id"]

        assert client.delete(f"/v1/tweets/{posted['id']}", author).status_code == 204
        stream.wait(lambda: posted["id"] in stream.deletes, "the deletion")
    assert unseen["id"] not in {str(s.id) for s, _ in stream.updates}


def test_the_notification_stream_hears_notifications_only(
    client: ChirpClient, masto_user: tuple[Account, Mastodon]
) -> None:
    reader, api = masto_user
    follower = client.register()
    with sse(lambda rec: api.stream_user_notifications(rec, run_async=True)) as stream:
        own = client.tweet(reader, "heard on the user stream, not this one")
        assert client.put(f"/v1/tweets/{own['id']}/like", follower).status_code == 204
        client.follow(follower, reader)
        stream.wait(lambda: len(stream.notifications) == 2, "the favourite and the follow")
        by_type = {n.type: n for n in stream.notifications}
        assert by_type["follow"].account.acct == follower.handle
        assert by_type["follow"].status is None
        assert str(by_type["favourite"].status.id) == own["id"]
    assert stream.updates == []  # the post was applied before the like it allowed
    # The same notifications, under the same ids, as `/api/v1/notifications` lists them.
    streamed = {(str(n.id), n.type) for n in stream.notifications}
    stream.wait(
        lambda: streamed <= {(str(n.id), n.type) for n in api.notifications()}, "the listed ones"
    )


def test_the_public_stream_hears_strangers_and_a_hashtag_stream_its_tag(
    client: ChirpClient, masto_user: tuple[Account, Mastodon], log_in: LogIn
) -> None:
    _, api = masto_user
    stranger = client.register()
    other_api = log_in(client.register())
    with (
        sse(lambda rec: api.stream_public(rec, run_async=True, local=True)) as public,
        sse(lambda rec: other_api.stream_hashtag("Kestrels", rec, run_async=True)) as tagged,
    ):
        untagged = client.tweet(stranger, "nobody follows me, everybody may read me")
        with_tag = client.tweet(stranger, "a pair of #kestrels over the field")
        assert public.update(untagged["id"]).account.acct == stranger.handle
        public.update(with_tag["id"])
        tagged.update(with_tag["id"])
    # The same author's posts arrive in order: the untagged one would have come first.
    assert [str(s.id) for s, _ in tagged.updates] == [with_tag["id"]]


def test_mastodon_py_s_websocket_carries_the_user_stream(
    client: ChirpClient, masto_user: tuple[Account, Mastodon]
) -> None:
    reader, api = masto_user
    author = client.register()
    client.follow(reader, author)
    recorder = Recorder()
    with api.stream_open_websocket(recorder) as socket:  # type: ignore[no-untyped-call]
        api.stream_user(recorder, websocket_handle=socket)
        socket.subscribe("nonsense", listener=recorder)  # answered once `user` is subscribed
        recorder.wait(lambda: recorder.errors, "the refusal")
        error, stream = recorder.errors[0]
        assert stream == ["nonsense"] and error.args[1] == 400
        posted = client.tweet(author, "over the socket")
        status = recorder.update(posted["id"])
        assert status.account.acct == author.handle
        assert [s for s, on in recorder.updates if on == ["user"]] == [status]


def socket_url(api_server: ApiProcess, query: str) -> str:
    return api_server.url.replace("http", "ws", 1) + "/api/v1/streaming?" + query


def test_a_plain_websocket_takes_the_stream_and_token_from_its_address(
    api_server: ApiProcess, client: ChirpClient, masto_user: tuple[Account, Mastodon]
) -> None:
    _, api = masto_user
    stranger = client.register()
    url = socket_url(api_server, f"stream=public&access_token={api.access_token}")
    with connect(url, open_timeout=WAIT_S) as socket:
        socket.send(orjson.dumps({"type": "subscribe", "stream": "hashtag"}).decode())
        refusal = orjson.loads(socket.recv(timeout=WAIT_S))  # no tag: refused, in order
        assert refusal["status"] == 400 and refusal["error"]
        posted = client.tweet(stranger, "to whoever listens")
        while True:
            message = orjson.loads(socket.recv(timeout=WAIT_S))
            if message["event"] == "update":
                status = orjson.loads(message["payload"])
                if status["id"] == posted["id"]:
                    break
        assert message["stream"] == ["public"]
        assert status["account"]["acct"] == stranger.handle


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/streaming/user", 401),  # no token
        ("/api/v1/streaming/user?access_token=not-a-token", 401),
        ("/api/v1/streaming/hashtag", 400),  # no tag
        ("/api/v1/streaming/nonsense", 404),
    ],
)
def test_bad_streaming_requests_get_mastodon_errors(
    client: ChirpClient, path: str, status: int
) -> None:
    response = client.http.get(path)
    assert response.status_code == status
    assert isinstance(response.json()["error"], str)


def test_a_token_without_the_read_scope_streams_nothing(
    api_server: ApiProcess, client: ChirpClient, mastodon_app: tuple[str, str]
) -> None:
    api = Mastodon(*mastodon_app, api_base_url=api_server.url)
    api.log_in(client.register().handle, PASSWORD, scopes=["write"], allow_http=True)
    headers = {"Authorization": f"Bearer {api.access_token}"}
    response = httpx.get(api_server.url + "/api/v1/streaming/user", headers=headers)
    assert response.status_code == 401
    assert "scopes" in response.json()["error"]


@pytest.mark.parametrize(
    ("query", "status"), [("stream=user&access_token=not-a-token", 401), ("stream=nope", 400)]
)
def test_a_websocket_with_a_bad_token_or_stream_is_refused(
    api_server: ApiProcess, query: str, status: int
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(socket_url(api_server, query), open_timeout=WAIT_S)
    assert refused.value.response.status_code == status
    assert orjson.loads(refused.value.response.body)["error"]


def test_the_streaming_health_check_answers(masto_user: tuple[Account, Mastodon]) -> None:
    _, api = masto_user
    assert api.stream_healthy()
