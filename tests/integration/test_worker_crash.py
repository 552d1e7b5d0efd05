"""A worker killed without warning loses nothing: after a restart every write is projected."""

from __future__ import annotations

import httpx

from infra.app_processes import WorkerProcess
from tests.support.client import ChirpClient
from tests.support.waiting import wait_for


def test_tweets_posted_while_the_worker_is_dead_appear_after_restart(
    client: ChirpClient, worker: WorkerProcess
) -> None:
    author = client.register()
    before = client.tweet(author, "posted before the crash")["id"]
    worker.kill()
    assert not worker.is_running()
    posted = [client.tweet(author, f"posted while the worker is down {i}")["id"] for i in range(25)]

    worker.start()
    worker.wait_ready()

    def caught_up() -> httpx.Response | None:
        response = client.get(f"/v1/users/{author.handle}/tweets", params={"limit": 100})
        return None if "Chirp-Stale" in response.headers else response

    # The restarted worker first rejoins the group; each read waits up to 2 s on the token.
    response = wait_for(caught_up, timeout_s=60, what="the restarted worker to catch up")
    assert response.status_code == 200
    ids = [t["id"] for t in response.json()["data"]]
    assert ids == [*reversed(posted), before]
