"""Redis clients for the read models: one server or a Redis Cluster, picked by the arguments.

Owns how a client and its bound on connections are built. It never reads settings or the
environment (the wiring passes the DSN, the cluster's nodes and the bound, so a layer below
`infra` can be handed a ready factory) and never connects: the first command does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import hiredis
import redis
import redis.asyncio
import redis.cluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError
from redis.exceptions import TimeoutError as RedisTimeoutError

from projections.redis_client import RedisClient

POOL_TIMEOUT_S = 10.0
# A pooled connection a restarted Redis closed fails its next command: it is retried on a
# new connection (and a Redis that is coming back gets a moment) before an error surfaces.
RETRIES = 3


def command_retry() -> Retry:
    return Retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES)


AsyncRedisClient = RedisClient
SyncRedisClient = redis.Redis | redis.RedisCluster


class HiredisPackingConnection(redis.asyncio.Connection):
    """An asyncio connection that packs commands with hiredis's C packer.

    redis-py's blocking client packs with hiredis when it is installed; its asyncio connection
    packs in Python, about 37 us for a live-feed `XADD` against 4 us, and packing was a third
    of the worker's time spent in Redis pipelines. The bytes on the wire are the same (unit
    tests compare both packers), and what neither accepts (None, bools) is still a
    `DataError`.
    """

    def pack_command(self, *args: Any) -> list[bytes]:
        name, rest = args[0], args[1:]
        if isinstance(name, str):
            args = (*name.encode().split(), *rest)
        elif b" " in name:
            args = (*name.split(), *rest)
        try:
            return [hiredis.pack_command(args)]
        except TypeError:  # a bytearray (which hiredis takes as bytes), or no value at all
            args = tuple(bytes(a) if isinstance(a, bytearray) else a for a in args)
        try:
            return [hiredis.pack_command(args)]
        except TypeError as error:
            raise DataError(str(error)) from error


def pack_with_hiredis(cluster: redis.asyncio.RedisCluster) -> None:
    """Every node of `cluster`, known now or found later, connects with
    `HiredisPackingConnection` (redis-py's cluster client takes no connection class). Only
    plain TCP connections are replaced: a TLS client keeps its own class."""
    if cluster.connection_kwargs.get("connection_class") is not redis.asyncio.Connection:
        return
    cluster.connection_kwargs["connection_class"] = HiredisPackingConnection
    cluster.nodes_manager.connection_kwargs["connection_class"] = HiredisPackingConnection
    for node in cluster.startup_nodes:
        node.connection_class = HiredisPackingConnection


def open_redis(
    *,
    dsn: str,
    cluster_nodes: Sequence[tuple[str, int]] = (),
    max_connections: int,
    pool_timeout_s: float = POOL_TIMEOUT_S,
) -> AsyncRedisClient:
    """An asyncio client: a `RedisCluster` when `cluster_nodes` are given, else `Redis` at `dsn`.

    The single server's pool is blocking: beyond `max_connections` a command waits up to
    `pool_timeout_s` for a free connection instead of failing under a burst. The cluster client
    has no waiting pool: `max_connections` bounds each node, and a command beyond it raises
    `MaxConnectionsError`. The DSN is not used for a cluster. Close with `await client.aclose()`.
    """
    if cluster_nodes:
        cluster = redis.asyncio.RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in cluster_nodes],
            max_connections=max_connections,
        )
        pack_with_hiredis(cluster)
        return cluster
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        dsn,
        connection_class=HiredisPackingConnection,  # a rediss:// or unix:// URL keeps its own
        max_connections=max_connections,
        timeout=pool_timeout_s,
        retry=command_retry(),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return redis.asyncio.Redis.from_pool(pool)  # the client closes the pool with itself


def open_sync_redis(
    *,
    dsn: str,
    cluster_nodes: Sequence[tuple[str, int]] = (),
    max_connections: int,
    pool_timeout_s: float = POOL_TIMEOUT_S,
    socket_timeout_s: float | None = None,
) -> SyncRedisClient:
    """The blocking twin of `open_redis`, for tools and tests; `close()` it.

    Unlike the asyncio one, the cluster client reads the cluster's slot map from the nodes
    when it is created, so the cluster must be up (else `RedisClusterException`).
    `socket_timeout_s` bounds connecting and each reply (probes); None waits.
    """
    if cluster_nodes:
        nodes = [
            redis.cluster.ClusterNode(host, port)  # type: ignore[no-untyped-call]  # untyped in redis-py
            for host, port in cluster_nodes
        ]
        return redis.RedisCluster(
            startup_nodes=nodes,
            max_connections=max_connections,
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=socket_timeout_s,
        )
    pool = redis.BlockingConnectionPool.from_url(
        dsn,
        max_connections=max_connections,
        timeout=pool_timeout_s,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=socket_timeout_s,
    )
    return redis.Redis.from_pool(pool)
