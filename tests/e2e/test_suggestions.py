"""Who to follow through HTTP against the running stack: accounts followed by the people you
follow, ranked by how many of them follow each, the most-followed for a user who follows
nobody; the follower counts behind it survive a replay and a second application."""

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


def suggested(client: ChirpClient, account: Account, **params: Any) -> list[dict[str, Any]]:
    def fresh() -> httpx.Response | None:
        response = client.get("/v1/suggestions", params=params, headers=account.auth)
        assert response.status_code == 200, response.text
        return None if "Chirp-Stale" in response.headers else response

    answer = wait_for(fresh, timeout_s=30, what="fresh suggestions")

    assert answer is not None

    body = answer.json()
    assert body["next_cursor"] is None
    data: list[dict[str, Any]] = body["data"]
    return data


def handles(items: list[dict[str, Any]]) -> list[str]:
    return [item["handle"] for item in items]


def followers_count(client: ChirpClient, handle: str) -> int:
    count: int = client.get(f"/v1/users/{handle}").json()["followers_count"]
    return count


def test_friends_of_friends_rank_by_how_many_of_your_followees_follow_them(
    client: ChirpClient,
) -> None:
    me, a, b, x, y, z, fan = (client.register() for _ in range(7))
    client.follow(me, a)
    client.follow(me, b)
    for follower, followee in [(a, x), (a, y), (b, x), (b, z), (fan, z), (a, me), (a, b)]:
        client.follow(follower, followee)

    found = suggested(client, me, limit=3)

    # x: followed by a and b; z and y by one each, z with more followers (fan follows z).
    assert handles(found) == [x.handle, z.handle, y.handle]
    assert [item["followed_by_count"] for item in found] == [2, 1, 1]
    assert [item["followers_count"] for item in found] == [2, 2, 1]
    assert found[0]["id"] == x.user_id
    # Never yourself, never someone you already follow (a follows both me and b).
    everything = handles(suggested(client, me, limit=100))
    assert me.handle not in everything and b.handle not in everything

    client.follow(me, x)
    assert handles(suggested(client, me, limit=2)) == [z.handle, y.handle]
    client.unfollow(a, y)
    client.unfollow(a, y)  # twice is once
    assert handles(suggested(client, me, limit=1)) == [z.handle]
    later = suggested(client, me, limit=100)
    assert [item["followed_by_count"] for item in later if item["handle"] == y.handle] in ([], [0])


def test_someone_who_follows_nobody_gets_the_most_followed_accounts(
    client: ChirpClient,
) -> None:
    newcomer, star, fans = (
        client.register(),
        client.register(),
        [client.register() for _ in range(4)],
    )
    for fan in fans:
        client.follow(fan, star)
    client.follow(fans[0], fans[1])
    client.follow(fans[0], star)  # following twice counts once

    found = suggested(client, newcomer, limit=100)

    counts = [item["followers_count"] for item in found]
    assert counts == sorted(counts, reverse=True)
    assert newcomer.handle not in handles(found)
    assert star.handle in handles(found)
    for item in found[:5]:  # the counts are the profiles' own
        assert item["followers_count"] == followers_count(client, item["handle"])
        assert item["followed_by_count"] == 0
    assert len(suggested(client, newcomer, limit=1)) == 1


def test_the_rest_is_filled_with_popular_accounts_you_do_not_follow(client: ChirpClient) -> None:
    me, friend, their_pick = client.register(), client.register(), client.register()
    client.follow(me, friend)
    client.follow(friend, their_pick)
    found = suggested(client, me, limit=10)
    assert found[0]["handle"] == their_pick.handle
    assert friend.handle not in handles(found) and me.handle not in handles(found)
    assert len(found) == len({item["id"] for item in found})


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"limit": "many"}, {"cursor": "5"}, {"sort": "recent"}],
    ids=["zero", "too-many", "not-a-number", "no-cursor", "unknown-parameter"],
)
def test_bad_parameters_are_422_and_produce_nothing(
    client: ChirpClient, test_settings: Settings, params: dict[str, Any]
) -> None:
    me = client.register()
    before = end_offsets(test_settings, chirp_topics(test_settings))
    response = client.get("/v1/suggestions", params=params, headers=me.auth)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert end_offsets(test_settings, chirp_topics(test_settings)) == before


def test_suggestions_need_a_log_in(client: ChirpClient) -> None:
    response = client.get("/v1/suggestions")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_the_follower_counts_survive_a_replay_and_a_second_application(
    client: ChirpClient, test_settings: Settings, redis_client: Redis
) -> None:
    me, a, b, x = (client.register() for _ in range(4))
    for follower, followee in [(me, a), (a, x), (b, x), (b, a)]:
        client.follow(follower, followee)
    client.unfollow(b, a)
    expected = suggested(client, me, limit=5)
    live = snapshot(redis_client, serving_namespace(redis_client, "follow_graph"))
    assert any(key.startswith("{popular") for key in live)

    asyncio.run(
        reapply(test_settings, whole_log(test_settings, ("follows",)), ignore_positions=True)
    )
    assert snapshot(redis_client, serving_namespace(redis_client, "follow_graph")) == live

    run_replay(test_settings, "follow_graph", drop_grace_s=0.2)
    assert snapshot(redis_client, serving_namespace(redis_client, "follow_graph")) == live
    assert suggested(client, me, limit=5) == expected
