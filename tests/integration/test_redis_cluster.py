"""The local 3-master Redis Cluster and the cluster client from `open_redis`, against real nodes.

What Chirp's Redis code may rely on in a Cluster (DESIGN.md section 4, pitfall 17): pipelines
that are not transactions may span slots; scripts and transactions must stay in one slot.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio
from redis.asyncio.cluster import ClusterNode
from redis.exceptions import CrossSlotTransactionError, RedisClusterException, ResponseError

from infra.local_services import (
    RedisCluster,
    ServiceStartError,
    ensure_running,
    free_cluster_ports,
    port_accepts,
)
from infra.redis_clients import open_redis, open_sync_redis
from infra.settings import Settings

SET_BOTH = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return 1"


@pytest.fixture
async def cluster_client(
    redis_cluster: RedisCluster,
) -> AsyncIterator[redis.asyncio.RedisCluster]:
    client = open_redis(dsn="", cluster_nodes=redis_cluster.addresses, max_connections=8)
    assert isinstance(client, redis.asyncio.RedisCluster)
    await client.initialize()
    yield client
    await client.aclose()


def unique(prefix: str) -> str:
    return f"chirp:test:{prefix}:{uuid.uuid4().hex}"


def current_epochs(cluster: RedisCluster) -> list[str | None]:
    return [(node.cluster_info() or {}).get("cluster_current_epoch") for node in cluster.nodes]


def owner(client: redis.asyncio.RedisCluster, key: str) -> ClusterNode:
    node = client.get_node_from_key(key)
    assert node is not None, key
    return node


# --- the cluster ------------------------------------------------------------------------------


def test_the_cluster_forms_with_every_slot_served(redis_cluster: RedisCluster) -> None:
    assert redis_cluster.is_running()
    for node in redis_cluster.nodes:
        info = node.cluster_info()
        assert info is not None, node.name
        assert info["cluster_state"] == "ok", node.name
        assert info["cluster_known_nodes"] == "3", node.name
        assert info["cluster_slots_ok"] == "16384", node.name
        assert info["cluster_size"] == "3", node.name  # three masters, each with slots


def test_starting_a_formed_cluster_again_leaves_it_alone(redis_cluster: RedisCluster) -> None:
    pids = [node.pid() for node in redis_cluster.nodes]
    epochs = current_epochs(redis_cluster)

    # Creating it again would fail: its nodes are no longer empty.
    ensure_running(redis_cluster, timeout=30)

    assert [node.pid() for node in redis_cluster.nodes] == pids
    assert current_epochs(redis_cluster) == epochs


def test_a_stopped_cluster_restarts_on_its_data_without_forming_again(
    test_settings: Settings, tmp_path: Path
) -> None:
    cluster = RedisCluster(test_settings, free_cluster_ports(3), tmp_path / "cluster")
    ensure_running(cluster, timeout=60)
    try:
        key = unique("survivor")
        with open_sync_redis(dsn="", cluster_nodes=cluster.addresses, max_connections=4) as client:
            client.set(key, "yes")

        cluster.stop()
        assert not cluster.is_running()
        assert not any(port_accepts(port) for _, port in cluster.addresses)

        ensure_running(cluster, timeout=60)
        with open_sync_redis(dsn="", cluster_nodes=cluster.addresses, max_connections=4) as client:
            assert client.get(key) == b"yes"
    finally:
        cluster.stop()
    assert not cluster.is_running()


def test_a_cluster_needs_local_nodes_named_in_the_setting(test_settings: Settings) -> None:
    with pytest.raises(ServiceStartError, match=r"^CHIRP_REDIS_CLUSTER_NODES is empty"):
        RedisCluster(test_settings)

    remote = Settings.model_validate(
        {**test_settings.model_dump(), "redis_cluster_nodes": "10.1.2.3:7001,127.0.0.1:7002"}
    )
    with pytest.raises(ServiceStartError, match=r"names other machines \(10\.1\.2\.3:7001\)"):
        RedisCluster(remote)

    with pytest.raises(ServiceStartError, match=r"needs 3 distinct ports"):
        RedisCluster(test_settings, ports=[7001, 7002])


# --- what the client may do --------------------------------------------------------------------


async def test_a_pipeline_writes_keys_of_every_node(
    redis_cluster: RedisCluster, cluster_client: redis.asyncio.RedisCluster
) -> None:
    keys = [unique(f"spread:{index}") for index in range(30)]
    owners = {owner(cluster_client, key).name for key in keys}
    assert len(owners) == 3, "the keys must span every node for this test to mean anything"

    pipe = cluster_client.pipeline()  # not a transaction: redis-py sends one batch per node
    for key in keys:
        pipe.set(key, key)
    assert await pipe.execute() == [True] * len(keys)

    assert await cluster_client.mget_nonatomic(keys) == [key.encode() for key in keys]


async def test_a_script_whose_keys_share_a_hash_tag_runs(
    cluster_client: redis.asyncio.RedisCluster,
) -> None:
    tag = unique("{user}")
    keys = [f"{{{tag}}}:home", f"{{{tag}}}:position"]
    assert cluster_client.keyslot(keys[0]) == cluster_client.keyslot(keys[1])

    assert await cluster_client.register_script(SET_BOTH)(keys=keys, args=["1"]) == 1

    assert await cluster_client.mget(keys) == [b"1", b"1"]


async def test_a_script_whose_keys_span_slots_is_refused(
    cluster_client: redis.asyncio.RedisCluster,
) -> None:
    keys = [unique("a"), unique("b")]
    assert cluster_client.keyslot(keys[0]) != cluster_client.keyslot(keys[1])

    # redis-py refuses before sending ...
    with pytest.raises(RedisClusterException, match="all keys must map to the same key slot"):
        await cluster_client.register_script(SET_BOTH)(keys=keys, args=["1"])
    # ... and the node itself refuses it too, whatever client sends it.
    with pytest.raises(ResponseError, match="don't hash to the same slot"):
        await cluster_client.execute_command(
            "EVAL", SET_BOTH, 2, *keys, "1", target_nodes=owner(cluster_client, keys[0])
        )

    assert await cluster_client.exists(*keys) == 0


async def test_a_transaction_whose_keys_span_slots_is_refused(
    cluster_client: redis.asyncio.RedisCluster,
) -> None:
    keys = [unique("a"), unique("b")]
    assert cluster_client.keyslot(keys[0]) != cluster_client.keyslot(keys[1])

    transaction = cluster_client.pipeline(transaction=True)
    for key in keys:
        transaction.set(key, "1")
    with pytest.raises(CrossSlotTransactionError):
        await transaction.execute()

    assert await cluster_client.exists(*keys) == 0
