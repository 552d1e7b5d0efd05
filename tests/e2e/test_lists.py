"""Lists through HTTP against the running stack: made, renamed, filled and emptied, deleted;
their timeline merges the members' own timelines; private to their owner (someone else's list
is 404); refusals store and produce nothing; the read model survives a replay and a second
application of its events."""

from __future__ import annotations

import asyncio
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

UNKNOWN_LIST = "123456789012345"


def make_list(client: ChirpClient, owner: Account, name: str) -> dict[str, Any]:
    response = client.post("/v1/lists", json={"name": name}, headers=owner.auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/lists/{body['id']}"
    assert "Chirp-Position" in response.headers
    return body


def rename(client: ChirpClient, owner: Account, list_id: str, name: str) -> httpx.Response:
    response = client.http.patch(
        f"/v1/lists/{list_id}", json={"name": name}, headers={**client.after(), **owner.auth}
    )
    return client._remember(response)


def read(client: ChirpClient, owner: Account, path: str, **params: Any) -> Any:
    """A read that has applied every write of this client (asked again while the answer is
    stale: on a loaded machine the worker may take longer than one bounded wait)."""

    def fresh() -> httpx.Response | None:
        response = client.get(path, params=params, headers=owner.auth)
        assert response.status_code == 200, response.text
        return None if "Chirp-Stale" in response.headers else response

    answer = wait_for(fresh, timeout_s=30, what=f"a fresh answer from {path}")

    assert answer is not None

    return answer.json()


def member_handles(client: ChirpClient, owner: Account, list_id: str) -> list[str]:
    page = read(client, owner, f"/v1/lists/{list_id}/members", limit=100)
    return [user["handle"] for user in page["data"]]


def timeline_ids(client: ChirpClient, owner: Account, list_id: str, **params: Any) -> list[str]:
    return client.ids(read(client, owner, f"/v1/lists/{list_id}/timeline", **params)["data"])


def offsets(settings: Settings) -> dict[tuple[str, int], int]:
    return end_offsets(settings, chirp_topics(settings))


def test_a_list_is_made_filled_renamed_emptied_and_deleted(
    client: ChirpClient, test_settings: Settings
) -> None:
    owner, first, second = client.register(), client.register(), client.register()
    older = make_list(client, owner, "Older")
    made = make_list(client, owner, "  Astronomers ")
    assert made["name"] == "Astronomers"
    assert made["member_count"] == 0
    assert made["owner"]["handle"] == owner.handle
    list_id = made["id"]
    assert client.ids(read(client, owner, "/v1/lists")["data"])[:2] == [list_id, older["id"]]

    for member in (first, second):
        assert client.put(f"/v1/lists/{list_id}/members/{member.handle}", owner).status_code == 204
    assert member_handles(client, owner, list_id) == [first.handle, second.handle]
    assert read(client, owner, f"/v1/lists/{list_id}")["member_count"] == 2

    before = offsets(test_settings)
    again = client.put(f"/v1/lists/{list_id}/members/{first.handle.upper()}", owner)
    assert again.status_code == 204 and "Chirp-Position" not in again.headers
    assert offsets(test_settings) == before

    assert rename(client, owner, list_id, "Stargazers").status_code == 204
    assert read(client, owner, f"/v1/lists/{list_id}")["name"] == "Stargazers"

    assert client.delete(f"/v1/lists/{list_id}/members/{second.handle}", owner).status_code == 204
    assert member_handles(client, owner, list_id) == [first.handle]
    before = offsets(test_settings)
    assert client.delete(f"/v1/lists/{list_id}/members/{second.handle}", owner).status_code == 204
    assert offsets(test_settings) == before

    assert client.delete(f"/v1/lists/{list_id}", owner).status_code == 204
    assert client.get(f"/v1/lists/{list_id}", headers=owner.auth).status_code == 404
    assert client.ids(read(client, owner, "/v1/lists")["data"]) == [older["id"]]
    assert client.delete(f"/v1/lists/{list_id}", owner).status_code == 404
    put = client.put(f"/v1/lists/{list_id}/members/{first.handle}", owner)
    assert put.status_code == 404


def test_a_list_timeline_merges_its_members_newest_first(client: ChirpClient) -> None:
    owner, a, b, outsider = (client.register() for _ in range(4))
    listed = make_list(client, owner, "Team")["id"]
    for member in (a, b):
        assert client.put(f"/v1/lists/{listed}/members/{member.handle}", owner).status_code == 204
    a1 = client.tweet(a, "a one")["id"]
    b1 = client.tweet(b, "b one")["id"]
    outside = client.tweet(outsider, "not on the list")["id"]
    a2 = client.tweet(a, "a two")["id"]
    assert client.put(f"/v1/tweets/{outside}/retweet", b).status_code == 204
    assert client.put(f"/v1/tweets/{b1}/retweet", a).status_code == 204  # b1 shows once

    page = read(client, owner, f"/v1/lists/{listed}/timeline")
    newest = page["data"][0]
    assert newest["retweet_of"] == outside and newest["author"]["handle"] == b.handle
    assert client.ids(page["data"])[1:] == [a2, b1, a1]
    assert page["next_cursor"] is None
    assert page["data"][2]["author"]["handle"] == b.handle

    walked: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        step = read(client, owner, f"/v1/lists/{listed}/timeline", **params)
        walked += client.ids(step["data"])
        cursor = step["next_cursor"]
        if cursor is None:
            break
    # A tweet shows once per page: one entry a page, so a's retweet of b1 shows too.
    assert {newest["id"], a2, b1, a1} <= set(walked)
    assert outside not in walked and len(walked) == 5

    assert client.delete(f"/v1/tweets/{a2}", a).status_code == 204
    assert client.delete(f"/v1/lists/{listed}/members/{b.handle}", owner).status_code == 204
    entries = read(client, owner, f"/v1/lists/{listed}/timeline")["data"]
    # a's own timeline: its retweet of b1 (b is off the list, the retweet is a's) and a1.
    assert [entry["retweet_of"] for entry in entries] == [b1, None]
    assert entries[1]["id"] == a1


def test_someone_elses_list_is_404_and_nothing_is_produced(
    client: ChirpClient, test_settings: Settings
) -> None:
    owner, stranger, member = client.register(), client.register(), client.register()
    list_id = make_list(client, owner, "Mine")["id"]
    assert client.put(f"/v1/lists/{list_id}/members/{member.handle}", owner).status_code == 204
    client.get(f"/v1/lists/{list_id}", headers=owner.auth)
    before = offsets(test_settings)
    headers = {**client.after(), **stranger.auth}
    for method, path, body in [
        ("GET", f"/v1/lists/{list_id}", None),
        ("GET", f"/v1/lists/{list_id}/members", None),
        ("GET", f"/v1/lists/{list_id}/timeline", None),
        ("PATCH", f"/v1/lists/{list_id}", {"name": "Theirs now"}),
        ("DELETE", f"/v1/lists/{list_id}", None),
        ("PUT", f"/v1/lists/{list_id}/members/{stranger.handle}", None),
        ("DELETE", f"/v1/lists/{list_id}/members/{member.handle}", None),
    ]:
        response = client.http.request(method, path, json=body, headers=headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["title"] == "List not found"
    assert read(client, stranger, "/v1/lists")["data"] == []
    assert offsets(test_settings) == before
    assert read(client, owner, f"/v1/lists/{list_id}")["name"] == "Mine"
    assert member_handles(client, owner, list_id) == [member.handle]


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 26},
        {"name": "tab\tinside"},
        {"name": "bell\x07"},
        {"name": 7},
        {},
        {"name": "ok", "private": False},
    ],
    ids=["empty", "blank", "too-long", "tab", "control", "number", "missing", "extra-field"],
)
def test_a_bad_list_name_is_422_and_nothing_is_stored(
    client: ChirpClient, test_settings: Settings, body: dict[str, Any]
) -> None:
    owner = client.register()
    list_id = make_list(client, owner, "Kept")["id"]
    read(client, owner, "/v1/lists")
    before = offsets(test_settings)
    made = client.http.post("/v1/lists", json=body, headers=owner.auth)
    renamed = client.http.patch(f"/v1/lists/{list_id}", json=body, headers=owner.auth)
    for response in (made, renamed):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert offsets(test_settings) == before
    assert [item["name"] for item in read(client, owner, "/v1/lists")["data"]] == ["Kept"]


def test_unknown_lists_handles_and_bad_paging_are_refused(
    client: ChirpClient, test_settings: Settings
) -> None:
    owner = client.register()
    list_id = make_list(client, owner, "Real")["id"]
    read(client, owner, f"/v1/lists/{list_id}")
    before = offsets(test_settings)
    headers = {**client.after(), **owner.auth}
    refusals: list[tuple[str, str, int]] = [
        ("GET", f"/v1/lists/{UNKNOWN_LIST}", 404),
        ("GET", "/v1/lists/not-an-id", 404),
        ("GET", "/v1/lists/0", 404),
        ("GET", f"/v1/lists/{UNKNOWN_LIST}/timeline", 404),
        ("DELETE", f"/v1/lists/{UNKNOWN_LIST}", 404),
        ("PUT", f"/v1/lists/{UNKNOWN_LIST}/members/{owner.handle}", 404),
        ("PUT", f"/v1/lists/{list_id}/members/nobody_here_x1", 404),
        ("DELETE", f"/v1/lists/{list_id}/members/nobody_here_x1", 404),
        ("GET", f"/v1/lists/{list_id}/timeline?limit=0", 422),
        ("GET", f"/v1/lists/{list_id}/timeline?limit=101", 422),
        ("GET", f"/v1/lists/{list_id}/timeline?cursor=abc", 422),
        ("GET", f"/v1/lists/{list_id}/members?cursor=-5", 422),
        ("GET", "/v1/lists?limit=many", 422),
        ("GET", "/v1/lists?curser=1", 422),
    ]
    for method, path, status in refusals:
        response = client.http.request(method, path, headers=headers)
        assert response.status_code == status, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    not_json = client.http.post(
        "/v1/lists", content=b'{"name": "x"}', headers={**owner.auth, "Content-Type": "text/plain"}
    )
    assert not_json.status_code == 415
    for method, path in [
        ("POST", "/v1/lists"),
        ("GET", "/v1/lists"),
        ("GET", f"/v1/lists/{list_id}"),
    ]:
        assert client.http.request(method, path, json={"name": "x"}).status_code == 401
    assert offsets(test_settings) == before
    assert member_handles(client, owner, list_id) == []


def test_the_lists_read_model_survives_a_replay_and_a_second_application(
    client: ChirpClient, test_settings: Settings, redis_client: Redis
) -> None:
    owner, a, b = client.register(), client.register(), client.register()
    kept = make_list(client, owner, "Kept")["id"]
    gone = make_list(client, owner, "Gone")["id"]
    for list_id in (kept, gone):
        for member in (a, b):
            client.put(f"/v1/lists/{list_id}/members/{member.handle}", owner)
    client.delete(f"/v1/lists/{kept}/members/{a.handle}", owner)
    assert rename(client, owner, kept, "Kept and renamed").status_code == 204
    assert client.delete(f"/v1/lists/{gone}", owner).status_code == 204
    client.tweet(b, "on the list")
    expected = (
        read(client, owner, "/v1/lists"),
        member_handles(client, owner, kept),
        timeline_ids(client, owner, kept),
    )
    assert expected[1] == [b.handle]
    live = snapshot(redis_client, serving_namespace(redis_client, "lists"))
    assert not any(f"{{{gone}}}" in key for key in live)  # a deleted list's keys are gone
    assert any(f"{{{kept}}}" in key for key in live)

    logged = whole_log(test_settings, ("collections",))
    asyncio.run(reapply(test_settings, logged, ignore_positions=True))
    assert snapshot(redis_client, serving_namespace(redis_client, "lists")) == live

    run_replay(test_settings, "lists", drop_grace_s=0.2)
    rebuilt = serving_namespace(redis_client, "lists")
    assert rebuilt.version > 1
    assert snapshot(redis_client, rebuilt) == live
    assert (
        read(client, owner, "/v1/lists"),
        member_handles(client, owner, kept),
        timeline_ids(client, owner, kept),
    ) == expected
