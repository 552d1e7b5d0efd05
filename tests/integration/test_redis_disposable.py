"""Redis is disposable: a projection that lost data in Redis is caught up from the log by the
worker itself, because the positions stored in Redis, not the consumer group's committed
offsets, say where each partition resumes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from redis import Redis

from infra.settings import Settings
from infra.topics import end_offsets
from projections.base import as_text
from tests.support.client import ChirpClient
from tests.support.read_models import serving_namespace
from tests.support.waiting import wait_for


def lose_user_timelines(redis: Redis) -> None:
    """What a Redis restarted from an older snapshot (or wiped) leaves of one projection:
    neither its keys nor its positions."""
    pattern = serving_namespace(redis, "user_timelines").pattern
    keys = list(redis.scan_iter(match=pattern, count=1000))
    assert keys
    redis.delete(*keys)


def caught_up(redis: Redis, settings: Settings) -> bool:
    """Whether user_timelines has applied every partition of the tweets topic to its end."""
    raw = redis.hgetall(serving_namespace(redis, "user_timelines").positions_key)
    applied = {as_text(field): int(offset) for field, offset in raw.items()}
    ends = end_offsets(settings, [settings.topic("tweets")])
    return all(
        applied.get(f"{topic}:{partition}", -1) >= end - 1
        for (topic, partition), end in ends.items()
    )


@pytest.fixture(autouse=True)
def whole_again(redis_client: Redis, test_settings: Settings) -> Iterator[None]:
    """Each test leaves user_timelines caught up on every partition, not only those it reads:
    the worker reads idle partitions again one check at a time, and the next test must not
    start while it still does."""
    yield
    wait_for(
        lambda: caught_up(redis_client, test_settings) or None,
        timeout_s=180,
        what="user_timelines to have applied the whole tweets topic again",
    )


def texts(base_url: str, handle: str) -> list[str]:
    """The user's timeline as served now, without waiting for any position."""
    response = httpx.get(f"{base_url}/v1/users/{handle}/tweets", timeout=30)
    assert response.status_code == 200, response.text
    return [tweet["text"] for tweet in response.json()["data"]]


def test_a_new_event_after_lost_data_makes_the_worker_read_again(
    client: ChirpClient, redis_client: Redis
) -> None:
    author = client.register()
    for n in range(3):
        client.tweet(author, f"before the loss {n}")
    assert len(client.user_tweets(author.handle)) == 3  # waits until applied

    lose_user_timelines(redis_client)
    client.tweet(author, "after the loss")

    # The worker sees an event beyond what the projection has applied and reads its
    # partition again from the stored position (none: offset 0), the whole log's worth.
    expected = ["after the loss", *(f"before the loss {n}" for n in reversed(range(3)))]
    restored = wait_for(
        lambda: texts(str(client.http.base_url), author.handle) == expected,
        timeout_s=120,
        what="the worker to read the partition again",
    )
    assert restored


def test_an_idle_partition_that_lost_data_is_caught_up_without_new_events(
    client: ChirpClient, redis_client: Redis
) -> None:
    author = client.register()
    for n in range(2):
        client.tweet(author, f"quiet {n}")
    assert len(client.user_tweets(author.handle)) == 2

    lose_user_timelines(redis_client)
    assert texts(str(client.http.base_url), author.handle) == []

    restored = wait_for(
        lambda: texts(str(client.http.base_url), author.handle) or None,
        timeout_s=60,
        what="the worker to read the idle partitions again",
    )
    assert restored == ["quiet 1", "quiet 0"]
