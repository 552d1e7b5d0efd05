"""The asyncio Redis client the read models are written and read through, by type.

One Redis server or a Redis Cluster: the same code runs on both, because every script and
transaction touches one hash slot and batches are non-transactional pipelines. This module
only names the type, for the layers above to annotate with; the wiring in `infra` builds
the client (`infra.redis_clients.open_redis`) and hands the layers a factory.
"""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import ClusterDownError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

RedisClient = Redis | RedisCluster
RedisFactory = Callable[[], RedisClient]
"""Opens a new client; its owner closes it with `await client.aclose()`."""

REDIS_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ClusterDownError, TryAgainError)
"""What Redis answers while a server restarts, or while a Cluster misses a node or moves
slots: worth retrying, never worth stopping a worker for."""
