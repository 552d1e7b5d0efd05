"""Node ids are leases in Redis: no two live holders ever share one, on one Redis or a Cluster."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from api.node_lease import (
    NODE_IDS,
    Lease,
    LeasedIds,
    NodeLeaseLost,
    NodeLeases,
    NoFreeNodeId,
    leased_ids,
)
from domain.ids import id_node
from infra.local_services import RedisCluster
from infra.redis_clients import open_redis
from infra.settings import Settings
from projections.redis_client import RedisClient


@pytest.fixture(params=["single", "cluster"])
async def redis(
    request: pytest.FixtureRequest, test_settings: Settings
) -> AsyncIterator[RedisClient]:
    """An asyncio client of the test Redis, then of the test Redis Cluster."""
    if request.param == "single":
        request.getfixturevalue("redis_server")
        client = open_redis(dsn=test_settings.redis_dsn, max_connections=100)
    else:
        cluster: RedisCluster = request.getfixturevalue("redis_cluster")
        client = open_redis(dsn="", cluster_nodes=cluster.addresses, max_connections=100)
        await client.initialize()  # once, before the concurrent claims
    yield client
    await client.aclose()


def leases_in(redis: RedisClient, ttl_s: float = 30.0) -> NodeLeases:
    """Leases under a key prefix of their own, so running API processes are not disturbed."""
    return NodeLeases(redis, ttl_s=ttl_s, key_prefix=f"chirp:test:id-node:{uuid.uuid4().hex}")


async def test_every_node_id_is_leased_once_and_a_released_one_is_claimed_again(
    redis: RedisClient,
) -> None:
    leases = leases_in(redis)
    held = [await leases.claim() for _ in range(NODE_IDS)]
    assert sorted(lease.node_id for lease in held) == list(range(NODE_IDS))

    with pytest.raises(NoFreeNodeId, match="all 1024 node ids are leased"):
        await leases.claim()

    freed = held.pop(517)
    await leases.release(freed)
    again = await leases.claim()
    assert again.node_id == freed.node_id
    assert again.token != freed.token
    assert await leases.renew(freed) is None  # the old holder cannot take it back

    for lease in [*held, again]:
        await leases.release(lease)


async def test_a_live_holder_keeps_its_node_id_after_the_probe_counter_wraps(
    redis: RedisClient,
) -> None:
    leases = leases_in(redis)
    live = await leases.claim()
    others = set()
    for _ in range(3 * NODE_IDS):  # processes come and go, three times round the counter
        lease = await leases.claim()
        others.add(lease.node_id)
        await leases.release(lease)
    assert live.node_id not in others
    assert len(others) == NODE_IDS - 1
    assert await leases.renew(live) is not None
    await leases.release(live)


async def test_concurrent_claims_get_distinct_node_ids(redis: RedisClient) -> None:
    leases = leases_in(redis)
    claimed = await asyncio.gather(*(leases.claim() for _ in range(64)))
    assert len({lease.node_id for lease in claimed}) == 64
    for lease in claimed:
        await leases.release(lease)


async def test_an_expired_lease_stops_issuing_ids_before_another_holder_gets_the_node(
    redis: RedisClient,
) -> None:
    leases = leases_in(redis, ttl_s=0.5)
    lease = await leases.claim()
    ids = LeasedIds(leases, lease)
    assert id_node(ids.next_id()) == lease.node_id

    await asyncio.sleep(0.6)  # no renewal: the lease ran out
    with pytest.raises(NodeLeaseLost):
        ids.next_id()
    assert ids.node_id is None
    other = await leases.claim()  # now free for anyone
    assert isinstance(other, Lease)
    await leases.release(other)


async def test_a_lost_lease_stops_issuing_ids_until_a_node_id_is_claimed_afresh(
    redis: RedisClient,
) -> None:
    leases = leases_in(redis)
    async with leased_ids(leases) as ids:
        node_id = ids.node_id
        assert node_id is not None
        # Someone else now holds the node id (as after Redis lost the key and a newcomer took it).
        await redis.set(leases.lease_key(node_id), "another process")

        await ids.refresh()

        assert ids.node_id is not None and ids.node_id != node_id
        assert id_node(ids.next_id()) == ids.node_id
        assert await redis.get(leases.lease_key(node_id)) == b"another process"
        current = ids.node_id
    assert await redis.exists(leases.lease_key(current)) == 0  # released on exit
    assert await redis.get(leases.lease_key(node_id)) == b"another process"  # not ours to free
    await redis.delete(leases.lease_key(node_id))


async def test_the_background_renewal_keeps_a_short_lease_alive(redis: RedisClient) -> None:
    leases = leases_in(redis, ttl_s=0.6)
    async with leased_ids(leases) as ids:
        node_id = ids.node_id
        assert node_id is not None
        for _ in range(6):  # three TTLs
            await asyncio.sleep(0.3)
            assert ids.node_id == node_id
            ids.next_id()
        assert await redis.pttl(leases.lease_key(node_id)) > 0
