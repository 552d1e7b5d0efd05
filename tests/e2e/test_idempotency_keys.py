"""A POST retried with the same Idempotency-Key produces one event and the same answer."""

from __future__ import annotations

import secrets

from infra.settings import Settings
from infra.topics import end_offsets
from tests.support.client import ChirpClient


def tweets_end(settings: Settings) -> int:
    return sum(end_offsets(settings, [settings.topic("tweets")]).values())


def test_a_retried_post_returns_the_first_response_without_a_second_event(
    client: ChirpClient, test_settings: Settings
) -> None:
    author = client.register()
    key = {"Idempotency-Key": secrets.token_hex(16), **author.auth}
    before = tweets_end(test_settings)
    first = client.http.post("/v1/tweets", json={"text": "only once"}, headers=key)
    again = client.http.post("/v1/tweets", json={"text": "only once"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Chirp-Position"] == first.headers["Chirp-Position"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert tweets_end(test_settings) == before + 1


def test_the_same_key_with_another_body_is_refused(
    client: ChirpClient, test_settings: Settings
) -> None:
    author = client.register()
    key = {"Idempotency-Key": secrets.token_hex(16), **author.auth}
    assert client.http.post("/v1/tweets", json={"text": "one"}, headers=key).status_code == 201
    before = tweets_end(test_settings)
    other = client.http.post("/v1/tweets", json={"text": "two"}, headers=key)
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    assert tweets_end(test_settings) == before


def test_keys_are_scoped_to_the_caller(client: ChirpClient) -> None:
    first, second = client.register(), client.register()
    key = secrets.token_hex(16)
    a = client.http.post(
        "/v1/tweets", json={"text": "same"}, headers={"Idempotency-Key": key, **first.auth}
    )
    b = client.http.post(
        "/v1/tweets", json={"text": "same"}, headers={"Idempotency-Key": key, **second.auth}
    )
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_a_registration_retried_with_its_key_is_not_a_conflict(client: ChirpClient) -> None:
    body = {"handle": f"idem{secrets.token_hex(4)}", "password": "correct horse battery"}
    headers = {"Idempotency-Key": secrets.token_hex(16)}
    first = client.http.post("/v1/users", json=body, headers=headers)
    again = client.http.post("/v1/users", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
