"""A running Chirp deployment as a test drives it, on a single Redis or on a Redis Cluster."""

from __future__ import annotations

from dataclasses import dataclass

from infra.redis_clients import SyncRedisClient
from infra.settings import Settings
from tests.support.client import ChirpClient


@dataclass(frozen=True, slots=True)
class RunningStack:
    """A worker and an API started for the session: their settings and the API's URL."""

    settings: Settings
    api_url: str


@dataclass(frozen=True, slots=True)
class Stack:
    """One test's handles on a running stack: `redis` is a `redis.RedisCluster` on a cluster."""

    name: str  # "single" or "cluster"
    settings: Settings
    client: ChirpClient
    redis: SyncRedisClient
