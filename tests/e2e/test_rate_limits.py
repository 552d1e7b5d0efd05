"""Rate limits: per user (per client address when anonymous), per route family, counted in Redis
so that every API process shares them; every limited answer says where the caller stands.

The session's API has limits no test reaches; these tests start two API processes of their
own on the session's stack with tight ones. Anonymous callers come from addresses of their own
through `X-Forwarded-For` (uvicorn trusts it from the loopback address), so tests do not share
a window.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from infra.app_processes import ApiProcess
from infra.local_services import KafkaBroker, RedisServer
from infra.settings import Settings
from tests.support.client import PASSWORD, ChirpClient, random_handle
from tests.support.stacks import another_api

DEFAULT_LIMIT = 6
TIGHT = {
    "rate_limit_default": f"{DEFAULT_LIMIT}/minute",
    "rate_limit_registrations": "2/minute",
    "rate_limit_sessions": "3/minute",
    "rate_limit_media": "2/minute",
}


@pytest.fixture(scope="module")
def tight_apis(
    kafka: KafkaBroker, redis_server: RedisServer, test_settings: Settings
) -> Iterator[tuple[str, str]]:
    with (
        another_api(test_settings, "limits-a", **TIGHT) as first,
        another_api(test_settings, "limits-b", **TIGHT) as second,
    ):
        yield first.url, second.url


@pytest.fixture
def tight(tight_apis: tuple[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tight_apis[0], timeout=30) as http:
        yield http


def an_address() -> dict[str, str]:
    """Headers that make the request come from an address no other test uses."""
    return {"X-Forwarded-For": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"}


def use_up(http: httpx.Client, path: str, headers: dict[str, str], count: int) -> list[int]:
    return [http.get(path, headers=headers).status_code for _ in range(count)]


def test_every_answer_says_the_limit_and_what_is_left(
    client: ChirpClient, tight: httpx.Client
) -> None:
    account = client.register()
    seen = []
    for path in ("/v1/trends", f"/v1/users/{account.handle}", "/v1/users/nobody_at_all"):
        response = tight.get(path, headers=account.auth)
        seen.append(
            (
                response.status_code,
                response.headers["X-RateLimit-Limit"],
                response.headers["X-RateLimit-Remaining"],
            )
        )
        reset = int(response.headers["X-RateLimit-Reset"])
        assert time.time() < reset <= time.time() + 61
    # A 404 counts and is labelled like any other answer.
    limit = str(DEFAULT_LIMIT)
    assert seen == [
        (200, limit, str(DEFAULT_LIMIT - 1)),
        (200, limit, str(DEFAULT_LIMIT - 2)),
        (404, limit, str(DEFAULT_LIMIT - 3)),
    ]


def test_over_the_limit_is_429_problem_json_with_retry_after(
    client: ChirpClient, tight: httpx.Client
) -> None:
    account = client.register()
    assert use_up(tight, "/v1/trends", account.auth, DEFAULT_LIMIT) == [200] * DEFAULT_LIMIT
    refused = tight.get("/v1/trends", headers=account.auth)
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["title"] == "Too many requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    # A write is refused too, and nothing reaches the log.
    posted = tight.post("/v1/tweets", json={"text": "over the limit"}, headers=account.auth)
    assert posted.status_code == 429
    assert client.user_tweets(account.handle) == []


def test_users_and_addresses_have_windows_of_their_own(
    client: ChirpClient, tight: httpx.Client
) -> None:
    spent, fresh = client.register(), client.register()
    address, other_address = an_address(), an_address()
    use_up(tight, "/v1/trends", {**spent.auth, **address}, DEFAULT_LIMIT)
    assert tight.get("/v1/trends", headers={**spent.auth, **address}).status_code == 429
    # Another user from the same address, and the same address without a token, go on.
    assert tight.get("/v1/trends", headers={**fresh.auth, **address}).status_code == 200
    anonymous = use_up(tight, "/v1/trends", address, DEFAULT_LIMIT + 1)
    assert anonymous == [200] * DEFAULT_LIMIT + [429]
    # An invalid token is no identity: it counts against its address.
    forged = {"Authorization": "Bearer not-a-token", **address}
    assert tight.get("/v1/trends", headers=forged).status_code == 429
    assert tight.get("/v1/trends", headers=other_address).status_code == 200


def test_two_api_processes_share_one_window(
    client: ChirpClient, tight_apis: tuple[str, str]
) -> None:
    account = client.register()
    statuses = []
    with httpx.Client(timeout=30) as http:
        for i in range(DEFAULT_LIMIT + 2):
            base_url = tight_apis[i % 2]
            statuses.append(http.get(f"{base_url}/v1/trends", headers=account.auth).status_code)
    assert statuses == [200] * DEFAULT_LIMIT + [429, 429]


def test_registrations_and_sessions_have_tighter_limits_of_their_own(
    tight: httpx.Client,
) -> None:
    address = an_address()
    handles = [random_handle("lim") for _ in range(3)]
    registered = [
        tight.post("/v1/users", json={"handle": h, "password": PASSWORD}, headers=address)
        for h in handles
    ]
    assert [r.status_code for r in registered] == [201, 201, 429]
    assert registered[0].headers["X-RateLimit-Limit"] == "2"
    logins = [
        tight.post(
            "/v1/sessions", json={"handle": handles[0], "password": PASSWORD}, headers=address
        ).status_code
        for _ in range(4)
    ]
    assert logins == [200, 200, 200, 429]
    # The default family's window is untouched by them.
    reads = tight.get("/v1/trends", headers=address)
    assert reads.status_code == 200
    assert reads.headers["X-RateLimit-Remaining"] == str(DEFAULT_LIMIT - 1)


def test_ops_endpoints_are_not_limited(client: ChirpClient, tight: httpx.Client) -> None:
    address = an_address()
    use_up(tight, "/v1/trends", address, DEFAULT_LIMIT)
    assert tight.get("/v1/trends", headers=address).status_code == 429
    for path in ("/healthz", "/readyz", "/metrics"):
        for _ in range(DEFAULT_LIMIT + 1):
            answer = tight.get(path, headers=address)
            assert answer.status_code != 429, path
            assert "X-RateLimit-Limit" not in answer.headers


def test_limits_can_be_switched_off(
    kafka: KafkaBroker, redis_server: RedisServer, test_settings: Settings
) -> None:
    overrides = {**TIGHT, "rate_limits_enabled": False}
    with another_api(test_settings, "limits-off", **overrides) as api:
        process: ApiProcess = api
        with httpx.Client(base_url=process.url, timeout=30) as http:
            answers = [http.get("/v1/trends") for _ in range(DEFAULT_LIMIT + 2)]
    assert [a.status_code for a in answers] == [200] * (DEFAULT_LIMIT + 2)
    assert all("X-RateLimit-Limit" not in a.headers for a in answers)
