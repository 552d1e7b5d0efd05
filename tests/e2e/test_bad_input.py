"""Bad input gets a clear 4xx problem document and writes nothing to the log."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from infra.app_processes import ApiProcess
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


FIVE_MB = 5 * 1024 * 1024


def five_mb_tweet() -> bytes:
    return json.dumps({"text": "x" * FIVE_MB}).encode()


def assert_readable_413(status: int, content_type: str | None, body: bytes) -> None:
    assert status == 413, body[:500]
    assert content_type == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 413 and problem["title"] == "Request body too large"
    assert problem["detail"] and problem["type"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_5_mb_body_from_the_standard_library_client_gets_a_readable_413(
    api_server: ApiProcess, author: Account, log_unchanged: None, chunked: bool
) -> None:
    """http.client sends the whole body before it reads: the server must not reset it."""
    body = five_mb_tweet()
    headers = {**author.auth, "Content-Type": "application/json"}
    connection = http.client.HTTPConnection(
        api_server.settings.api_host, api_server.settings.api_port, timeout=30
    )
    try:
        if chunked:  # no Content-Length: the server only learns the size by reading
            pieces = (body[i : i + 65536] for i in range(0, len(body), 65536))
            connection.request("POST", "/v1/tweets", pieces, headers, encode_chunked=True)
        else:
            connection.request("POST", "/v1/tweets", body, headers)
        response = connection.getresponse()
        assert_readable_413(response.status, response.getheader("Content-Type"), response.read())
        # The connection stays usable: the rest of the body was read, not left on the wire.
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_a_5_mb_body_from_urllib_gets_a_readable_413(
    api_server: ApiProcess, author: Account, log_unchanged: None
) -> None:
    request = urllib.request.Request(  # noqa: S310 - our own loopback URL
        f"{api_server.url}/v1/tweets",
        data=five_mb_tweet(),
        headers={**author.auth, "Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310
    error = refused.value
    assert_readable_413(error.code, error.headers.get("Content-Type"), error.read())


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
