"""A small HTTP client for tests: random handles, log-in, and read-your-writes tokens."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from api.positions import decode_token, encode_token
from schemas.log import Position

PASSWORD = "correct horse battery"


def random_handle(prefix: str = "u") -> str:
    return f"{prefix}{secrets.token_hex(6)}"[:15]


def covering_token(positions: Iterable[Position]) -> str:
    """A `Chirp-After` token covering every one of `positions`: the newest per partition."""
    newest: dict[tuple[str, int], Position] = {}
    for position in positions:
        partition = (position.topic, position.partition)
        if partition not in newest or newest[partition].offset < position.offset:
            newest[partition] = position
    return encode_token(newest.values())


@dataclass
class Account:
    handle: str
    user_id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class ChirpClient:
    """Wraps httpx; remembers the newest `Chirp-Position` per partition so reads can wait
    for every write it made.

    Safe to share between threads: the positions it remembers are read and updated
    under one lock."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30.0)
        self.written: dict[tuple[str, int], Position] = {}  # newest write per partition
        self._written_lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    def _remember(self, response: httpx.Response) -> httpx.Response:
        token = response.headers.get("Chirp-Position")
        if token:
            with self._written_lock:
                for position in decode_token(token):
                    partition = (position.topic, position.partition)
                    known = self.written.get(partition)
                    if known is None or known.offset < position.offset:
                        self.written[partition] = position
        return response

    def positions(self) -> list[Position]:
        """The newest position this client's writes reached on each partition."""
        with self._written_lock:
            return list(self.written.values())

    def after(self) -> dict[str, str]:
        """A token covering every write this client made, on every partition (session
        consistency: the client reads and acts on everything it wrote)."""
        written = self.positions()
        return {"Chirp-After": encode_token(written)} if written else {}

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.after(), **kwargs.pop("headers", {})}
        return self._remember(self.http.post(path, headers=headers, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.after(), **kwargs.pop("headers", {})}
        return self.http.get(path, headers=headers, **kwargs)

    def ids(self, items: list[dict[str, Any]]) -> list[str]:
        return [item["id"] for item in items]

    def register(self, handle: str | None = None, display_name: str | None = None) -> Account:
        handle = handle or random_handle()
        created = self.post(
            "/v1/users",
            json={"handle": handle, "password": PASSWORD, "display_name": display_name or handle},
        )
        assert created.status_code == 201, created.text
        session = self.http.post(
            "/v1/sessions",
            json={"handle": handle, "password": PASSWORD},
            headers=self.after(),
        )
        assert session.status_code == 200, session.text
        return Account(handle, created.json()["id"], session.json()["access_token"])

    def tweet(self, account: Account, text: str, **fields: Any) -> dict[str, Any]:
        response = self.post("/v1/tweets", json={"text": text, **fields}, headers=account.auth)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def user_tweets(self, handle: str, **params: Any) -> list[dict[str, Any]]:
        response = self.get(f"/v1/users/{handle}/tweets", params=params)
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def put(self, path: str, account: Account) -> httpx.Response:
        return self._remember(self.http.put(path, headers={**self.after(), **account.auth}))

    def delete(self, path: str, account: Account) -> httpx.Response:
        return self._remember(self.http.delete(path, headers={**self.after(), **account.auth}))

    def follow(self, follower: Account, followee: Account) -> None:
        response = self.put(f"/v1/following/{followee.handle}", follower)
        assert response.status_code == 204, response.text

    def unfollow(self, follower: Account, followee: Account) -> None:
        response = self.delete(f"/v1/following/{followee.handle}", follower)
        assert response.status_code == 204, response.text

    def home(self, account: Account, **params: Any) -> list[dict[str, Any]]:
        response = self.get("/v1/timelines/home", params=params, headers=account.auth)
        assert response.status_code == 200, response.text
        assert "Chirp-Stale" not in response.headers
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def tweet_json(self, tweet_id: str) -> dict[str, Any]:
        response = self.get(f"/v1/tweets/{tweet_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body
