"""A running Chirp deployment as a test drives it, on a single Redis or on a Redis Cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from infra.app_processes import ApiProcess
from infra.local_services import free_ports
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


@contextmanager
def another_api(settings: Settings, name: str, **overrides: object) -> Iterator[ApiProcess]:
    """One more API process on the session's stack: its own port and run directory, the
    session's settings with `overrides`; stopped on the way out."""
    [port] = free_ports(1)
    own = settings.model_copy(update={"api_port": port, **overrides})
    process = ApiProcess(own, data_dir=settings.var_dir / f"run-{name}")
    process.start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()
