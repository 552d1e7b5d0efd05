"""Two workers started side by side share the partitions, and one takes all back alone."""

from __future__ import annotations

import socket

from redis import Redis

from infra.app_processes import WorkerProcess
from infra.settings import Settings
from streams.heartbeat import heartbeat_key
from tests.support.client import ChirpClient
from tests.support.waiting import wait_for


def assigned(redis: Redis, worker: WorkerProcess) -> int:
    """How many partitions the worker reports holding (its heartbeat), 0 if none."""
    raw = redis.get(heartbeat_key(f"{socket.gethostname()}:{worker.pid()}"))
    return int(raw) if raw is not None else 0


def test_two_workers_share_the_partitions_and_lose_nothing(
    client: ChirpClient, worker: WorkerProcess, redis_client: Redis, test_settings: Settings
) -> None:
    alone = wait_for(lambda: assigned(redis_client, worker), timeout_s=60, what="a heartbeat")
    second = WorkerProcess(test_settings, index=1)
    second.start()
    try:
        second.wait_ready(timeout=120)
        wait_for(
            lambda: (
                0 < assigned(redis_client, worker) < alone and assigned(redis_client, second) > 0
            ),
            timeout_s=120,
            what="the partitions split between two workers",
        )
        authors = [client.register() for _ in range(8)]  # spread over the partitions
        posted = {
            a.handle: client.tweet(a, f"shared by two workers {a.handle}")["id"] for a in authors
        }
        for author in authors:
            assert client.ids(client.user_tweets(author.handle)) == [posted[author.handle]]
    finally:
        second.stop()
    wait_for(
        lambda: assigned(redis_client, worker) == alone,
        timeout_s=120,
        what="the remaining worker to take every partition back",
    )
    late = client.register()
    tweet = client.tweet(late, "after the second worker left")["id"]
    assert client.ids(client.user_tweets(late.handle)) == [tweet]
