"""Worker liveness: each worker refreshes a short-lived Redis key, read by `chirp status`."""

from __future__ import annotations

import logging
import os
import socket

import faust

from projections.redis_client import REDIS_UNAVAILABLE, RedisClient, RedisFactory

log = logging.getLogger(__name__)

HEARTBEAT_PREFIX = "chirp:workers:"
HEARTBEAT_EVERY_S = 1.0
HEARTBEAT_TTL_S = 5


def heartbeat_key(worker_name: str) -> str:
    return HEARTBEAT_PREFIX + worker_name


def register_heartbeat(app: faust.App, redis_factory: RedisFactory) -> None:
    worker_name = f"{socket.gethostname()}:{os.getpid()}"
    state: dict[str, RedisClient] = {}

    @app.timer(HEARTBEAT_EVERY_S)  # type: ignore[untyped-decorator]
    async def beat() -> None:
        # Created on the first beat, inside the running worker, never at import time.
        if "redis" not in state:
            state["redis"] = redis_factory()
        redis = state["redis"]
        assigned = len(app.consumer.assignment()) if app.consumer else 0
        try:
            await redis.set(heartbeat_key(worker_name), assigned, ex=HEARTBEAT_TTL_S)
        except REDIS_UNAVAILABLE as error:
            # A timer that raises stops the whole worker: a Redis restart must not.
            log.warning("Redis unavailable (%s); heartbeat skipped", error)
