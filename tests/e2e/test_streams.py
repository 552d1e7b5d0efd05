"""The live home stream (SSE) through HTTP against the running stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from infra.settings import Settings
from tests.conftest import CELEBRITY_THRESHOLD
from tests.support.client import Account, ChirpClient
from tests.support.sse import Listener, listening
from tests.support.stacks import another_api
from tests.support.waiting import wait_for

HOME = "/v1/streams/home"


def with_id(tweet_id: str) -> Any:
    return lambda data: data.get("id") == tweet_id


def entries(events: list[Any]) -> list[str]:
    return [orjson.loads(e.data)["id"] for e in events if e.event == "entry"]


def connected(client: ChirpClient, account: Account, **headers: str) -> Any:
    return listening(str(client.http.base_url), HOME, {**account.auth, **headers})


def ready(listener: Listener) -> str:
    """Waits for the `ready` event; its id is where this connection's stream stands."""
    assert listener.status == 200
    event = listener.next()
    while event.event != "ready":
        event = listener.next()
    return event.id


def test_followed_and_own_tweets_arrive_live_and_others_do_not(client: ChirpClient) -> None:
    reader, author, stranger = client.register(), client.register(), client.register()
    client.follow(reader, author)
    with connected(client, reader) as stream:
        ready(stream)
        unseen = client.tweet(stranger, "nobody follows me here")
        first = client.tweet(author, "hello live readers")
        own = client.tweet(reader, "my own words")
        got = stream.until("entry", with_id(first["id"]))
        got += stream.until("entry", with_id(own["id"]))
    received = entries(got)
    assert unseen["id"] not in received
    view = next(orjson.loads(e.data) for e in got if e.event == "entry")
    assert view["author"]["handle"] == author.handle
    assert view["text"] == "hello live readers"


def test_a_celebrity_s_tweets_arrive_though_they_are_not_fanned_out(client: ChirpClient) -> None:
    celebrity = client.register()
    fans = [client.register() for _ in range(CELEBRITY_THRESHOLD + 1)]
    for fan in fans:
        client.follow(fan, celebrity)
    with connected(client, fans[0]) as stream:
        ready(stream)
        posted = client.tweet(celebrity, "to all my fans")
        stream.until("entry", with_id(posted["id"]))


def test_a_follow_made_while_connected_takes_effect_at_once(client: ChirpClient) -> None:
    reader, author = client.register(), client.register()
    with connected(client, reader) as stream:
        ready(stream)
        client.follow(reader, author)
        # Follows and tweets are applied by different agents, so the feed may carry a tweet
        # produced right after a follow before the follow itself; once the follow is read
        # back (which waits for its batch, live entry included), the stream honours it.
        following = client.get(f"/v1/users/{reader.handle}/following").json()["data"]
        assert [user["handle"] for user in following] == [author.handle]
        posted = client.tweet(author, "you just followed me")
        stream.until("entry", with_id(posted["id"]))


def test_retweets_and_deletes_reach_the_stream(client: ChirpClient) -> None:
    reader, author, retweeter = client.register(), client.register(), client.register()
    client.follow(reader, retweeter)
    posted = client.tweet(author, "worth sharing")
    with connected(client, reader) as stream:
        ready(stream)
        assert client.put(f"/v1/tweets/{posted['id']}/retweet", retweeter).status_code == 204
        got = stream.until("entry", lambda d: d.get("retweet_of") == posted["id"])
        retweet = orjson.loads(got[-1].data)
        assert retweet["author"]["handle"] == retweeter.handle
        assert retweet["retweeted_tweet"]["text"] == "worth sharing"
        assert client.delete(f"/v1/tweets/{posted['id']}/retweet", retweeter).status_code == 204
        stream.until("unretweet", lambda d: d["tweet_id"] == posted["id"])
        mine = client.tweet(retweeter, "soon gone")
        stream.until("entry", with_id(mine["id"]))
        assert client.delete(f"/v1/tweets/{mine['id']}", retweeter).status_code == 204
        stream.until("delete", lambda d: d["tweet_id"] == mine["id"])


def test_last_event_id_resumes_without_gaps_or_duplicates(client: ChirpClient) -> None:
    reader, author = client.register(), client.register()
    client.follow(reader, author)
    with connected(client, reader) as stream:
        ready(stream)
        first = client.tweet(author, "before the gap")
        resume_from = stream.until("entry", with_id(first["id"]))[-1].id
    missed = [client.tweet(author, f"while away {n}")["id"] for n in range(3)]
    with connected(client, reader, **{"Last-Event-ID": resume_from}) as stream:
        backlog = stream.until("ready", lambda _: True)
        after = client.tweet(author, "after the return")
        live = stream.until("entry", with_id(after["id"]))
    assert entries(backlog) == missed  # in order, the one already seen not again
    assert entries(live) == [after["id"]]


def test_a_resume_point_the_feed_no_longer_keeps_asks_for_a_reload(client: ChirpClient) -> None:
    reader = client.register()
    client.tweet(reader, "so the feed is not empty")
    with connected(client, reader, **{"Last-Event-ID": "1-0"}) as stream:
        assert stream.next().event == "reset"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer nonsense"}, 401),
        ({"Authorization": "mine", "Last-Event-ID": "yesterday"}, 422),
    ],
)
def test_bad_requests_are_refused(
    client: ChirpClient, headers: dict[str, str], status: int
) -> None:
    if headers.get("Authorization") == "mine":
        headers = {**headers, **client.register().auth}
    response = client.http.get(HOME, headers=headers, timeout=5)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.fixture
def quick_heartbeats(test_settings: Settings, client: ChirpClient) -> Iterator[str]:
    with another_api(test_settings, "heartbeats", stream_heartbeat_s=0.2) as api:
        yield api.url


def test_idle_streams_get_heartbeats(client: ChirpClient, quick_heartbeats: str) -> None:
    account = client.register()
    with (
        httpx.Client(base_url=quick_heartbeats, timeout=httpx.Timeout(5.0, read=5.0)) as http,
        http.stream("GET", HOME, headers=account.auth) as response,
    ):
        assert response.status_code == 200
        comments = 0
        for line in response.iter_lines():
            comments += line.startswith(":")
            if comments == 2:
                break
        assert comments == 2


def test_notifications_arrive_on_the_recipient_s_stream(client: ChirpClient) -> None:
    author, fan = client.register(), client.register()
    posted = client.tweet(author, "notify me")
    with connected(client, author) as stream:
        ready(stream)
        assert client.put(f"/v1/tweets/{posted['id']}/like", fan).status_code == 204
        liked = stream.until("notification", lambda d: d["type"] == "like")[-1]
        client.follow(fan, author)
        followed = stream.until("notification", lambda d: d["type"] == "follow")[-1]
        reply = client.tweet(fan, "a reply", reply_to=posted["id"])
        replied = stream.until("notification", lambda d: d["type"] == "reply")[-1]
    like = orjson.loads(liked.data)
    assert like["target"] == posted["id"]
    assert like["account"]["handle"] == fan.handle
    assert orjson.loads(followed.data)["target"] is None
    assert orjson.loads(replied.data)["target"] == reply["id"]


def test_own_actions_notify_nobody_on_the_stream(client: ChirpClient) -> None:
    author, fan = client.register(), client.register()
    posted = client.tweet(author, "liking my own")
    with connected(client, author) as stream:
        ready(stream)
        # Both likes are on one partition (keyed by the tweet): the author's comes first.
        assert client.put(f"/v1/tweets/{posted['id']}/like", author).status_code == 204
        assert client.put(f"/v1/tweets/{posted['id']}/like", fan).status_code == 204
        got = stream.until("notification", lambda d: d["account"]["handle"] == fan.handle)
    notes = [orjson.loads(e.data) for e in got if e.event == "notification"]
    assert [note["account"]["handle"] for note in notes] == [fan.handle]


def open_streams(client: ChirpClient) -> float:
    metrics = client.http.get("/metrics").text
    [line] = [x for x in metrics.splitlines() if x.startswith("chirp_stream_connections ")]
    return float(line.split()[1])


def test_streams_are_counted_and_released_when_clients_go_away(client: ChirpClient) -> None:
    first, second = client.register(), client.register()
    with connected(client, first) as one, connected(client, second) as two:
        ready(one)
        ready(two)
        assert open_streams(client) >= 2
    wait_for(lambda: open_streams(client) == 0, timeout_s=15, what="streams to be released")
