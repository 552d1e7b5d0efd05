"""Two API processes side by side: ids stay unique, each process holds its own node-id lease,
and a handle goes to exactly one racer."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from redis import Redis

from api.node_lease import LEASE_KEY_PREFIX
from domain.ids import id_node
from infra.app_processes import ApiProcess
from infra.local_services import KafkaBroker, RedisServer
from infra.settings import Settings
from tests.support.client import PASSWORD, Account, ChirpClient, covering_token, random_handle
from tests.support.stacks import another_api

RACERS = 16


@pytest.fixture(scope="module")
def second_api(
    kafka: KafkaBroker, redis_server: RedisServer, test_settings: Settings
) -> Iterator[ApiProcess]:
    with another_api(test_settings, "second-api") as process:
        yield process


def test_a_handle_raced_through_two_processes_is_registered_once(
    client: ChirpClient, second_api: ApiProcess
) -> None:
    handle = random_handle("race")
    urls = [client.http.base_url, second_api.url] * (RACERS // 2)

    def register(base_url: object) -> int:
        body = {"handle": handle, "password": PASSWORD}
        return httpx.post(f"{base_url}/v1/users", json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        statuses = list(pool.map(register, urls))
    assert sorted(statuses) == [201] + [409] * (RACERS - 1)


def test_tweets_posted_through_both_processes_get_distinct_ids(
    client: ChirpClient, second_api: ApiProcess
) -> None:
    author = client.register()
    other = ChirpClient(second_api.url)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            first = pool.map(lambda i: client.tweet(author, f"one {i}")["id"], range(40))
            second = pool.map(lambda i: other.tweet(author, f"two {i}")["id"], range(40))
            ids = list(first) + list(second)
    finally:
        other.close()
    assert len(set(ids)) == 80
    both = covering_token(client.positions() + other.positions())
    timeline = client.http.get(
        f"/v1/users/{author.handle}/tweets", params={"limit": 100}, headers={"Chirp-After": both}
    )
    assert "Chirp-Stale" not in timeline.headers
    assert {t["id"] for t in timeline.json()["data"]} == set(ids)


def lease_key(node_id: int) -> str:
    return f"{LEASE_KEY_PREFIX}:lease:{node_id}"


def node_of(client: ChirpClient, author: Account) -> int:
    """The node id of the process behind `client`, read from the ids it makes."""
    nodes = {id_node(int(client.tweet(author, f"node probe {i}")["id"])) for i in range(5)}
    assert len(nodes) == 1, nodes
    return nodes.pop()


def test_two_api_processes_hold_different_leased_node_ids(
    client: ChirpClient, second_api: ApiProcess, redis_client: Redis
) -> None:
    author = client.register()
    other = ChirpClient(second_api.url)
    try:
        first_node, second_node = node_of(client, author), node_of(other, author)
    finally:
        other.close()
    assert first_node != second_node
    for node in (first_node, second_node):
        assert redis_client.pttl(lease_key(node)) > 0  # leased, with a TTL


def test_a_stopped_api_process_releases_its_node_id(
    client: ChirpClient, test_settings: Settings, redis_client: Redis
) -> None:
    author = client.register()
    with another_api(test_settings, "third-api") as process:
        third = ChirpClient(process.url)
        try:
            node = node_of(third, author)
        finally:
            third.close()
        assert redis_client.get(lease_key(node)) is not None
    assert redis_client.exists(lease_key(node)) == 0
    assert node != node_of(client, author)
