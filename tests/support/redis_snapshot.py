"""Everything one version of a projection holds in Redis, comparable across versions."""

from __future__ import annotations

from typing import Any

from infra.redis_clients import SyncRedisClient
from projections.base import Namespace


def snapshot(redis: SyncRedisClient, keys: Namespace) -> dict[str, Any]:
    """{key without its version prefix: value}, for every key type projections use.

    On a Redis Cluster the scan covers every primary (redis-py's `RedisCluster.scan_iter`)."""
    prefix = keys.key("")
    found: dict[str, Any] = {}
    for raw_key in redis.scan_iter(match=keys.pattern, count=1000):
        key = raw_key.decode()
        kind = redis.type(raw_key).decode()
        if kind == "string":
            value: Any = redis.get(raw_key)
        elif kind == "hash":
            value = redis.hgetall(raw_key)
        elif kind == "zset":
            value = redis.zrange(raw_key, 0, -1, withscores=True)
        elif kind == "set":
            value = sorted(redis.smembers(raw_key))
        elif kind == "stream":
            # A feed (the live projection's): what it says, not how often. An event applied
            # twice is appended twice and readers skip the repeat (`LiveEntry.dedupe_key`);
            # entry ids are arrival times, so a rebuilt feed has new ones.
            value = sorted({tuple(sorted(fields.items())) for _, fields in redis.xrange(raw_key)})
        else:
            raise AssertionError(f"unexpected key type {kind} at {key}")
        found[key.removeprefix(prefix)] = value
    return found
