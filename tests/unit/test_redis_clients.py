"""`open_redis` picks the client from its arguments and bounds its connections; no server."""

from __future__ import annotations

import math

import pytest
import redis
import redis.asyncio
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from redis.exceptions import DataError

from infra.redis_clients import HiredisPackingConnection, open_redis, open_sync_redis
from infra.settings import Settings

NODES = (("127.0.0.1", 7001), ("127.0.0.1", 7002), ("127.0.0.1", 7003))


async def test_without_nodes_it_is_one_server_with_a_bounded_waiting_pool() -> None:
    client = open_redis(
        dsn="redis://127.0.0.1:6390/2", max_connections=7, pool_timeout_s=3.0, cluster_nodes=()
    )
    try:
        assert isinstance(client, redis.asyncio.Redis)
        pool = client.connection_pool
        assert isinstance(pool, redis.asyncio.BlockingConnectionPool)
        assert (pool.max_connections, pool.timeout) == (7, 3.0)
        kwargs = pool.connection_kwargs
        assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6390, 2)
        assert pool.connection_class is HiredisPackingConnection
    finally:
        await client.aclose()


async def test_with_nodes_it_is_a_cluster_client_bounded_per_node() -> None:
    client = open_redis(dsn="redis://ignored:1/0", cluster_nodes=NODES, max_connections=7)
    try:
        assert isinstance(client, redis.asyncio.RedisCluster)
        assert [node.name for node in client.startup_nodes] == [
            "127.0.0.1:7001",
            "127.0.0.1:7002",
            "127.0.0.1:7003",
        ]
        assert all(node.max_connections == 7 for node in client.startup_nodes)
        assert all(
            node.connection_class is HiredisPackingConnection for node in client.startup_nodes
        )
        found_later = client.nodes_manager.connection_kwargs["connection_class"]
        assert found_later is HiredisPackingConnection
    finally:
        await client.aclose()


def test_the_blocking_twin_bounds_its_pool_too() -> None:
    client = open_sync_redis(dsn="redis://127.0.0.1:6390/0", max_connections=5)
    try:
        assert isinstance(client, redis.Redis)
        pool = client.connection_pool
        assert isinstance(pool, redis.BlockingConnectionPool)
        assert pool.max_connections == 5
    finally:
        client.close()


def test_the_cluster_nodes_setting_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHIRP_REDIS_CLUSTER_NODES", " 127.0.0.1:7001, redis-b:7002,,127.0.0.1:7003")

    settings = Settings(_env_file=None)

    assert settings.redis_cluster_addresses == (
        ("127.0.0.1", 7001),
        ("redis-b", 7002),
        ("127.0.0.1", 7003),
    )
    assert Settings(_env_file=None, redis_cluster_nodes="").redis_cluster_addresses == ()


@pytest.mark.parametrize("nodes", ["127.0.0.1", "127.0.0.1:", ":7001", "host:port", "h:70000"])
def test_a_malformed_cluster_node_is_refused(nodes: str) -> None:
    with pytest.raises(ValidationError, match=r"CHIRP_REDIS_CLUSTER_NODES: .* is not host:port"):
        Settings(_env_file=None, redis_cluster_nodes=nodes)


ARGUMENTS = st.one_of(
    st.text(),
    st.binary(),
    st.integers(),
    st.floats(allow_nan=False).filter(lambda number: not math.isinf(number) or number > 0),
    st.binary().map(bytearray),
    st.binary().map(memoryview),
)


@given(
    st.sampled_from(["SET", "ZADD", "CLIENT SETNAME", b"XADD", b"OBJECT ENCODING"]),
    st.lists(ARGUMENTS, max_size=12),
)
def test_hiredis_packs_the_bytes_redis_py_packs(name: str | bytes, arguments: list[object]) -> None:
    args = (name, *arguments)
    python_packed = b"".join(bytes(c) for c in redis.asyncio.Connection().pack_command(*args))
    assert b"".join(HiredisPackingConnection().pack_command(*args)) == python_packed


@pytest.mark.parametrize("refused", [None, True])
def test_what_redis_py_refuses_to_pack_hiredis_refuses_too(refused: object) -> None:
    with pytest.raises(DataError):
        redis.asyncio.Connection().pack_command("SET", "key", refused)
    with pytest.raises(DataError):
        HiredisPackingConnection().pack_command("SET", "key", refused)
