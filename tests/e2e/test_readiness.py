"""While a serving projection is further behind the log than an API process allows, that
process answers /readyz with 503 naming it and marks its reads `Chirp-Stale: true`; once the
worker catches up it is ready again.

The threshold is a setting of each API process: a second process with a small one watches the
session's stack while the session worker is stopped. The worker runs again at the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from infra.app_processes import WorkerProcess
from infra.local_services import KafkaBroker, RedisServer
from infra.settings import Settings
from tests.support.client import ChirpClient
from tests.support.stacks import another_api
from tests.support.waiting import wait_for

MAX_LAG_EVENTS = 3
CATCH_UP_S = 60


@pytest.fixture
def strict_api(
    kafka: KafkaBroker, redis_server: RedisServer, test_settings: Settings
) -> Iterator[ChirpClient]:
    """An API process that is not ready while a projection is over 3 events behind."""
    with another_api(test_settings, "strict-api", ready_max_lag_events=MAX_LAG_EVENTS) as process:
        client = ChirpClient(process.url)
        try:
            yield client
        finally:
            client.close()


def ready(client: ChirpClient) -> httpx.Response | None:
    response = client.http.get("/readyz")
    return response if response.status_code == 200 else None


def caught_up(client: ChirpClient) -> bool:
    response = ready(client)
    return response is not None and not any(response.json()["projection_lag"].values())


def test_readyz_is_503_and_reads_are_stale_while_a_projection_is_behind(
    client: ChirpClient, worker: WorkerProcess, strict_api: ChirpClient
) -> None:
    author = client.register()
    client.tweet(author, "before the worker stops")  # so the tweet projections hold positions
    wait_for(lambda: caught_up(strict_api), timeout_s=CATCH_UP_S, what="the worker to be idle")

    worker.stop()
    try:
        # Straight through HTTP: a `Chirp-After` token would make each write wait for the worker.
        for i in range(MAX_LAG_EVENTS + 2):
            posted = client.http.post(
                "/v1/tweets", json={"text": f"while the worker is down {i}"}, headers=author.auth
            )
            assert posted.status_code == 201, posted.text

        not_ready = strict_api.http.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.headers["content-type"] == "application/problem+json"
        problem = not_ready.json()
        assert problem["title"] == "Not ready"
        assert "projection user_timelines is 5 events behind the log" in problem["detail"]
        assert problem["projection_lag"]["user_timelines"] == MAX_LAG_EVENTS + 2
        assert problem["projection_lag"]["users"] == 0  # nothing registered meanwhile

        timeline = strict_api.http.get(f"/v1/users/{author.handle}/tweets")
        assert timeline.status_code == 200
        assert timeline.headers.get("Chirp-Stale") == "true"
        profile_only = strict_api.http.get(f"/v1/users/{author.handle}/followers")
        assert profile_only.status_code == 200
        assert "Chirp-Stale" not in profile_only.headers  # users and follow_graph are current
        # The session's API, with the default threshold, is ready all along.
        assert client.http.get("/readyz").status_code == 200
    finally:
        worker.start()
        worker.wait_ready()

    wait_for(lambda: ready(strict_api), timeout_s=CATCH_UP_S, what="the worker to catch up")
    timeline = strict_api.http.get(f"/v1/users/{author.handle}/tweets")
    assert "Chirp-Stale" not in timeline.headers
    assert len(timeline.json()["data"]) == MAX_LAG_EVENTS + 3
