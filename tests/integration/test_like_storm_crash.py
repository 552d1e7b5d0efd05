"""A worker killed in the middle of a storm of likes and unlikes: every count stays exact."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from infra.app_processes import ApiProcess, WorkerProcess
from schemas.log import Position
from tests.support.client import Account, ChirpClient, covering_token
from tests.support.waiting import wait_for

TWEETS = 8
THREADS = 6
USERS_PER_THREAD = 4
OPS_PER_THREAD = 500  # 3,000 likes and unlikes, many of them repeats

FinalLikes = dict[tuple[str, str], bool]


def storm(
    base_url: str, users: list[Account], tweets: list[str], seed: int, midway: threading.Event
) -> tuple[FinalLikes, ChirpClient]:
    """Random likes/unlikes by these users; each user's actions are sequential, so the last
    one per (user, tweet) is what the log ends with."""
    rng = random.Random(seed)
    client = ChirpClient(base_url)
    final: FinalLikes = {}
    for done in range(OPS_PER_THREAD):
        if done == OPS_PER_THREAD // 3:
            midway.set()
        user, tweet, liked = rng.choice(users), rng.choice(tweets), rng.random() < 0.6
        send = client.put if liked else client.delete
        assert send(f"/v1/tweets/{tweet}/like", user).status_code == 204
        final[(user.user_id, tweet)] = liked
    return final, client


def test_like_counts_are_exact_after_a_crash_mid_storm(
    client: ChirpClient, worker: WorkerProcess, api_server: ApiProcess
) -> None:
    author = client.register()
    tweets = [client.tweet(author, f"storm target {i}")["id"] for i in range(TWEETS)]
    groups = [[client.register() for _ in range(USERS_PER_THREAD)] for _ in range(THREADS)]
    midway = threading.Event()

    def crash_midway() -> None:
        assert midway.wait(timeout=120)
        worker.kill()  # SIGKILL: no shutdown, offsets not committed
        worker.start()

    killer = threading.Thread(target=crash_midway)
    killer.start()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [
            pool.submit(storm, api_server.url, group, tweets, seed, midway)
            for seed, group in enumerate(groups)
        ]
        results = [future.result() for future in futures]
    killer.join()
    worker.wait_ready()

    expected = dict.fromkeys(tweets, 0)
    positions: list[Position] = []
    for final, thread_client in results:
        for (_, tweet), liked in final.items():
            expected[tweet] += liked
        positions.extend(thread_client.positions())  # the newest per partition of all wins
        thread_client.close()
    token = covering_token(positions)

    def counts_once_caught_up() -> dict[str, int] | None:
        found = {}
        for tweet in tweets:
            response = httpx.get(
                f"{api_server.url}/v1/tweets/{tweet}", headers={"Chirp-After": token}, timeout=30
            )
            if "Chirp-Stale" in response.headers:
                return None
            found[tweet] = response.json()["like_count"]
        return found

    counts = wait_for(counts_once_caught_up, timeout_s=90, what="the worker to catch up")
    assert counts == expected
    assert sum(expected.values()) > 0
