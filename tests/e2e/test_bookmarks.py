"""Bookmarks through HTTP against the running stack: private to their owner, newest bookmark
first, deleted tweets left out; refusals store and produce nothing; the read model survives a
replay and a second application of its events."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from redis import Redis

from infra.settings import Settings
from infra.topics import chirp_topics, end_offsets
from tests.integration.test_idempotence import reapply, whole_log
from tests.support.client import Account, ChirpClient
from tests.support.read_models import serving_namespace
from tests.support.redis_snapshot import snapshot
from tests.support.replay import run_replay
from tests.support.waiting import wait_for

UNKNOWN_TWEET = "123456789012345"


def bookmarked(client: ChirpClient, account: Account, **params: Any) -> dict[str, Any]:
    """A page that has applied every write of this client (asked again while stale)."""

    def fresh() -> httpx.Response | None:
        response = client.get("/v1/bookmarks", params=params, headers=account.auth)
        assert response.status_code == 200, response.text
        return None if "Chirp-Stale" in response.headers else response

    answer = wait_for(fresh, timeout_s=30, what="fresh bookmarks")

    assert answer is not None

    body: dict[str, Any] = answer.json()
    return body


def bookmark_ids(client: ChirpClient, account: Account) -> list[str]:
    return client.ids(bookmarked(client, account, limit=100)["data"])


def bookmark(client: ChirpClient, account: Account, tweet_id: str) -> None:
    response = client.put(f"/v1/tweets/{tweet_id}/bookmark", account)
    assert response.status_code == 204, response.text


def unbookmark(client: ChirpClient, account: Account, tweet_id: str) -> None:
    response = client.delete(f"/v1/tweets/{tweet_id}/bookmark", account)
    assert response.status_code == 204, response.text


@pytest.fixture
def log_unchanged(test_settings: Settings, client: ChirpClient) -> Iterator[None]:
    before = end_offsets(test_settings, chirp_topics(test_settings))
    yield
    assert end_offsets(test_settings, chirp_topics(test_settings)) == before


def test_bookmarks_are_private_newest_first_and_leave_deleted_tweets_out(
    client: ChirpClient, test_settings: Settings
) -> None:
    author, reader, stranger = client.register(), client.register(), client.register()
    first, second, third = (client.tweet(author, f"bookmark me {n}")["id"] for n in range(3))
    for tweet_id in (first, third, second):
        bookmark(client, reader, tweet_id)
    assert client.put(f"/v1/tweets/{first}/like", stranger).status_code == 204

    page = bookmarked(client, reader)
    assert client.ids(page["data"]) == [second, third, first]  # newest bookmark first
    assert page["next_cursor"] is None
    oldest = page["data"][-1]
    assert oldest["author"]["handle"] == author.handle
    assert oldest["text"] == "bookmark me 0"
    assert oldest["like_count"] == 1
    assert bookmark_ids(client, stranger) == []  # private to their owner
    assert bookmark_ids(client, author) == []

    before = end_offsets(test_settings, chirp_topics(test_settings))
    again = client.put(f"/v1/tweets/{first}/bookmark", reader)
    assert again.status_code == 204 and "Chirp-Position" not in again.headers
    assert end_offsets(test_settings, chirp_topics(test_settings)) == before
    assert bookmark_ids(client, reader) == [second, third, first]  # kept its place

    assert client.delete(f"/v1/tweets/{third}", author).status_code == 204
    assert bookmark_ids(client, reader) == [second, first]
    unbookmark(client, reader, second)
    assert bookmark_ids(client, reader) == [first]
    before = end_offsets(test_settings, chirp_topics(test_settings))
    unbookmark(client, reader, second)  # not bookmarked: nothing to do
    assert end_offsets(test_settings, chirp_topics(test_settings)) == before
    bookmark(client, reader, second)  # bookmarked again: newest now
    assert bookmark_ids(client, reader) == [second, first]


def test_bookmarks_page_by_cursor(client: ChirpClient) -> None:
    author, reader = client.register(), client.register()
    tweets = [client.tweet(author, f"page {n}")["id"] for n in range(5)]
    for tweet_id in tweets:
        bookmark(client, reader, tweet_id)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = bookmarked(client, reader, **params)
        seen += client.ids(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(tweets))


def test_a_tweet_posted_moments_ago_can_be_bookmarked_at_once(client: ChirpClient) -> None:
    author, reader = client.register(), client.register()
    posted = client.http.post("/v1/tweets", json={"text": "fresh"}, headers=author.auth)
    assert posted.status_code == 201
    response = client.http.put(f"/v1/tweets/{posted.json()['id']}/bookmark", headers=reader.auth)
    assert response.status_code == 204, response.text
    listed = client.http.get("/v1/bookmarks", headers=reader.auth)  # no token: own writes
    assert client.ids(listed.json()["data"]) == [posted.json()["id"]]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_bookmarking_an_unknown_or_deleted_tweet_is_404(
    client: ChirpClient, test_settings: Settings, method: str
) -> None:
    author, reader = client.register(), client.register()
    deleted = client.tweet(author, "going away")["id"]
    assert client.delete(f"/v1/tweets/{deleted}", author).status_code == 204
    client.get(f"/v1/users/{author.handle}/tweets")  # the delete is applied
    before = end_offsets(test_settings, chirp_topics(test_settings))
    for tweet_id in (UNKNOWN_TWEET, deleted, "not-an-id", "0"):
        response = client.http.request(
            method, f"/v1/tweets/{tweet_id}/bookmark", headers={**client.after(), **reader.auth}
        )
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert end_offsets(test_settings, chirp_topics(test_settings)) == before
    assert bookmark_ids(client, reader) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v1/tweets/1/bookmark"),
        ("DELETE", "/v1/tweets/1/bookmark"),
        ("GET", "/v1/bookmarks"),
    ],
)
def test_bookmarks_need_a_log_in(
    client: ChirpClient, log_unchanged: None, method: str, path: str
) -> None:
    response = client.http.request(method, path)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"cursor": "abc"}, {"cursor": "-1"}, {"curser": "1"}],
    ids=["zero", "too-many", "letters", "negative", "misspelt"],
)
def test_bad_paging_is_422(
    client: ChirpClient, test_settings: Settings, params: dict[str, Any]
) -> None:
    reader = client.register()
    before = end_offsets(test_settings, chirp_topics(test_settings))
    response = client.http.get("/v1/bookmarks", params=params, headers=reader.auth)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert end_offsets(test_settings, chirp_topics(test_settings)) == before


def test_the_bookmarks_read_model_survives_a_replay_and_a_second_application(
    client: ChirpClient, test_settings: Settings, redis_client: Redis
) -> None:
    author, reader = client.register(), client.register()
    tweets = [client.tweet(author, f"kept {n}")["id"] for n in range(3)]
    for tweet_id in tweets:
        bookmark(client, reader, tweet_id)
    unbookmark(client, reader, tweets[1])
    bookmark(client, reader, tweets[1])
    unbookmark(client, reader, tweets[0])
    expected = bookmark_ids(client, reader)
    assert expected == [tweets[1], tweets[2]]
    live = snapshot(redis_client, serving_namespace(redis_client, "bookmarks"))
    assert live

    logged = whole_log(test_settings, ("collections",))
    asyncio.run(reapply(test_settings, logged, ignore_positions=True))
    assert snapshot(redis_client, serving_namespace(redis_client, "bookmarks")) == live

    run_replay(test_settings, "bookmarks", drop_grace_s=0.2)
    rebuilt = serving_namespace(redis_client, "bookmarks")
    assert rebuilt.version > 1
    assert snapshot(redis_client, rebuilt) == live
    assert bookmark_ids(client, reader) == expected
