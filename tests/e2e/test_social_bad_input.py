"""Bad social requests get a 4xx problem document and produce nothing to Kafka."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.settings import Settings
from infra.topics import chirp_topics, end_offsets
from tests.support.client import Account, ChirpClient, random_handle

UNKNOWN_TWEET = "123456789012345"


@pytest.fixture
def log_unchanged(test_settings: Settings, client: ChirpClient) -> Iterator[None]:
    before = end_offsets(test_settings, chirp_topics(test_settings))
    yield
    assert end_offsets(test_settings, chirp_topics(test_settings)) == before


@pytest.fixture
def people(client: ChirpClient) -> tuple[Account, Account, str, str]:
    author, other = client.register(), client.register()
    live = client.tweet(author, "still here")["id"]
    deleted = client.tweet(author, "going away")["id"]
    assert client.delete(f"/v1/tweets/{deleted}", author).status_code == 204
    client.get(f"/v1/tweets/{live}")  # waits until the delete is applied
    return author, other, live, deleted


def assert_problem(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("action", ["like", "retweet"])
@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_acting_on_unknown_or_deleted_tweets_is_404(
    client: ChirpClient, people: Any, log_unchanged: None, action: str, method: str
) -> None:
    _, other, _, deleted = people
    for tweet_id in (UNKNOWN_TWEET, deleted, "not-an-id"):
        response = client.http.request(
            method, f"/v1/tweets/{tweet_id}/{action}", headers=other.auth
        )
        assert_problem(response, 404)


@pytest.mark.parametrize("field", ["reply_to", "quote_of"])
def test_replying_to_or_quoting_unknown_or_deleted_tweets_is_404(
    client: ChirpClient, people: Any, log_unchanged: None, field: str
) -> None:
    _, other, _, deleted = people
    for tweet_id in (UNKNOWN_TWEET, deleted):
        body = {"text": "hello", field: tweet_id}
        assert_problem(client.http.post("/v1/tweets", json=body, headers=other.auth), 404)


def test_deleting_someone_elses_tweet_is_403(
    client: ChirpClient, people: Any, log_unchanged: None
) -> None:
    _, other, live, deleted = people
    assert_problem(client.http.delete(f"/v1/tweets/{live}", headers=other.auth), 403)
    assert_problem(client.http.delete(f"/v1/tweets/{deleted}", headers=other.auth), 404)


def test_following_an_unknown_handle_is_404_and_yourself_422(
    client: ChirpClient, people: Any, log_unchanged: None
) -> None:
    author, *_ = people
    for method in ("PUT", "DELETE"):
        unknown = client.http.request(
            method, f"/v1/following/{random_handle()}", headers=author.auth
        )
        assert_problem(unknown, 404)
        myself = client.http.request(method, f"/v1/following/{author.handle}", headers=author.auth)
        assert_problem(myself, 422)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/timelines/home",
        "/v1/users/{handle}/followers",
        "/v1/users/{handle}/following",
        "/v1/tweets/{live}/liking_users",
        "/v1/tweets/{live}/thread",
    ],
)
@pytest.mark.parametrize("limit", [0, 101])
def test_limit_outside_1_to_100_is_422(
    client: ChirpClient, people: Any, path: str, limit: int
) -> None:
    author, _, live, _ = people
    url = path.format(handle=author.handle, live=live)
    assert_problem(client.http.get(url, params={"limit": limit}, headers=author.auth), 422)


def test_social_writes_need_a_token(client: ChirpClient, people: Any, log_unchanged: None) -> None:
    author, _, live, _ = people
    for method, url in [
        ("PUT", f"/v1/tweets/{live}/like"),
        ("PUT", f"/v1/tweets/{live}/retweet"),
        ("DELETE", f"/v1/tweets/{live}"),
        ("PUT", f"/v1/following/{author.handle}"),
        ("GET", "/v1/timelines/home"),
    ]:
        assert_problem(client.http.request(method, url), 401)
