"""Bad input gets a clear 4xx problem document and writes nothing to the log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from infra.settings import Settings
from infra.topics import chirp_topics, end_offsets
from tests.conftest import TEST_JWT_SECRET
from tests.support.client import Account, ChirpClient, random_handle


@pytest.fixture
def author(client: ChirpClient) -> Account:
    return client.register()


@pytest.fixture
def log_unchanged(test_settings: Settings, client: ChirpClient) -> Iterator[None]:
    before = end_offsets(test_settings, chirp_topics(test_settings))
    yield
    assert end_offsets(test_settings, chirp_topics(test_settings)) == before


def forged_token(account: Account, **claims: Any) -> str:
    payload = {"sub": account.user_id, "handle": account.handle, "exp": int(time.time()) + 60}
    return jwt.encode(
        {**payload, **claims}, "not-the-server-secret-but-long-enough-for-hs256", algorithm="HS256"
    )


def unsigned_token(account: Account) -> str:
    payload = {"sub": account.user_id, "exp": int(time.time()) + 60}
    return jwt.encode(payload, key=None, algorithm="none")  # type: ignore[arg-type]


def expired_token(account: Account) -> str:
    payload = {"sub": account.user_id, "exp": int(time.time()) - 10}
    return jwt.encode(payload, TEST_JWT_SECRET, algorithm="HS256")


def assert_problem(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "x" * 281}, 422),
        ({"text": ""}, 422),
        ({"text": " \n\t "}, 422),
        ({"text": 42}, 422),
        ({"text": "ok", "reply_to": 7}, 422),
        ({"text": "ok", "reply_to": "not-an-id"}, 422),
        ({"text": "ok", "media_ids": ["x"]}, 422),
        ({"text": "ok", "location": {"lat": 100, "lon": 0}}, 422),
        ({"text": "ok", "unexpected": True}, 422),
        ({}, 422),
        ({"text": "ok", "reply_to": "123456789"}, 404),
    ],
)
def test_bad_tweets_are_refused(
    client: ChirpClient, author: Account, log_unchanged: None, body: Any, status: int
) -> None:
    assert_problem(client.http.post("/v1/tweets", json=body, headers=author.auth), status)


def test_invalid_json_is_refused(client: ChirpClient, author: Account, log_unchanged: None) -> None:
    response = client.http.post(
        "/v1/tweets",
        content=b'{"text": "unterminated',
        headers={**author.auth, "content-type": "application/json"},
    )
    assert_problem(response, 422)


def test_body_over_the_limit_is_refused(
    client: ChirpClient, author: Account, test_settings: Settings, log_unchanged: None
) -> None:
    huge = {"text": "x" * (test_settings.max_body_bytes + 1)}
    assert_problem(client.http.post("/v1/tweets", json=huge, headers=author.auth), 413)


def test_chunked_body_over_the_limit_is_refused(
    client: ChirpClient, author: Account, test_settings: Settings, log_unchanged: None
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(test_settings.max_body_bytes // 1024 + 2):
            yield b"x" * 1024
        yield b'"}'

    response = client.http.post(
        "/v1/tweets", content=chunks(), headers={**author.auth, "content-type": "application/json"}
    )
    assert_problem(response, 413)


@pytest.mark.parametrize("make_token", [None, forged_token, unsigned_token, expired_token])
def test_bad_credentials_are_refused(
    client: ChirpClient, author: Account, log_unchanged: None, make_token: Any
) -> None:
    headers = {} if make_token is None else {"Authorization": f"Bearer {make_token(author)}"}
    response = client.http.post("/v1/tweets", json={"text": "hello"}, headers=headers)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "body",
    [
        {"handle": "has space", "password": "long enough pw"},
        {"handle": "a" * 16, "password": "long enough pw"},
        {"handle": "okhandle", "password": "short"},
        {"handle": "okhandle", "password": 12345678},
        {"handle": "okhandle"},
    ],
)
def test_bad_registrations_are_refused(client: ChirpClient, log_unchanged: None, body: Any) -> None:
    assert_problem(client.http.post("/v1/users", json=body), 422)


@pytest.mark.parametrize("limit", [0, 101, -1, "many"])
def test_limit_outside_range_is_refused(client: ChirpClient, author: Account, limit: Any) -> None:
    response = client.http.get(f"/v1/users/{author.handle}/tweets", params={"limit": limit})
    assert_problem(response, 422)


def test_malformed_position_token_is_refused(client: ChirpClient) -> None:
    response = client.http.get(
        f"/v1/users/{random_handle()}/tweets", headers={"Chirp-After": "not*a*token"}
    )
    assert_problem(response, 400)
