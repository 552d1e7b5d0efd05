"""`/metrics` of a real stack after some traffic: the API's (one process, then two sharing a
directory) and the worker's own endpoint, each series present with the values the traffic
implies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from infra.app_processes import ApiProcess, WorkerProcess
from infra.local_services import KafkaBroker, RedisServer
from infra.settings import Settings
from projections.registry import PROJECTION_FAMILIES
from tests.support.client import ChirpClient
from tests.support.stacks import another_api
from tests.support.waiting import wait_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
REQUESTS = 7


def scrape(url: str) -> Samples:
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_of(samples: Samples, route: str, status: str = "2xx", method: str = "GET") -> float:
    return value(
        samples,
        "chirp_http_request_duration_seconds_count",
        method=method,
        route=route,
        status=status,
    )


def test_requests_are_timed_by_route_template_and_status_class(
    client: ChirpClient, api_server: ApiProcess
) -> None:
    account = client.register()
    metrics_url = f"{api_server.url}/metrics"
    before = scrape(metrics_url)
    for _ in range(REQUESTS):
        assert client.get(f"/v1/users/{account.handle}").status_code == 200
    assert client.http.get("/no/such/path").status_code == 404
    assert client.http.get("/v1/users/nobody_here_at_all").status_code == 404
    after = scrape(metrics_url)

    assert requests_of(after, "/v1/users/{handle}") - requests_of(before, "/v1/users/{handle}") == (
        REQUESTS
    )
    assert (
        requests_of(after, "/v1/users/{handle}", "4xx")
        - requests_of(before, "/v1/users/{handle}", "4xx")
        == 1
    )
    assert requests_of(after, "unmatched", "4xx") - requests_of(before, "unmatched", "4xx") == 1
    # Routes are templates, never raw paths: no series names the handle.
    assert not [key for key in after if any(account.handle in v for _, v in key[1])]
    # The histogram's buckets hold the alert thresholds.
    bucket = "chirp_http_request_duration_seconds_bucket"
    labels = {"method": "GET", "route": "/v1/users/{handle}", "status": "2xx"}
    assert value(after, bucket, **labels, le="+Inf") == requests_of(after, "/v1/users/{handle}")
    assert value(after, bucket, **labels, le="0.1") <= value(after, bucket, **labels, le="0.2")


def test_writes_count_produce_latency_and_home_reads_hits_and_rebuilds(
    client: ChirpClient, api_server: ApiProcess, test_settings: Settings
) -> None:
    metrics_url = f"{api_server.url}/metrics"
    reader, newcomer = client.register(), client.register()
    client.tweet(reader, "one's own tweets are in one's home timeline")
    assert client.home(reader)  # rebuilt, and stored (no follow in flight)
    before = scrape(metrics_url)
    client.tweet(reader, "pushed to the stored timeline")
    assert len(client.home(reader)) == 2  # a hit
    middle = scrape(metrics_url)
    assert client.home(newcomer) == []  # nothing stored: rebuilt (to nothing)
    after = scrape(metrics_url)

    tweets = test_settings.topic("tweets")
    produced = "chirp_produce_duration_seconds_count"
    assert value(middle, produced, topic=tweets) - value(before, produced, topic=tweets) == 1
    assert value(middle, "chirp_produce_duration_seconds_sum", topic=tweets) > 0
    reads = "chirp_home_timeline_reads_total"
    assert value(middle, reads, result="hit") - value(before, reads, result="hit") == 1
    assert value(middle, reads, result="rebuilt") == value(before, reads, result="rebuilt")
    assert value(after, reads, result="rebuilt") - value(middle, reads, result="rebuilt") == 1
    assert value(after, reads, result="hit") == value(middle, reads, result="hit")


def test_projection_lag_is_measured_for_every_projection(
    client: ChirpClient, api_server: ApiProcess
) -> None:
    author = client.register()
    client.tweet(author, "applied before the scrape")
    assert client.user_tweets(author.handle)  # waited for: the projections applied it
    samples = scrape(f"{api_server.url}/metrics")
    for projection in PROJECTION_FAMILIES:
        assert value(samples, "chirp_projection_applied_events", projection=projection) >= 0
        assert ("chirp_projection_lag_events", frozenset({("projection", projection)})) in samples
        lag_s = value(samples, "chirp_projection_lag_seconds", projection=projection)
        assert 0 <= lag_s < 60, (projection, lag_s)
    assert value(samples, "chirp_projection_applied_events", projection="user_timelines") > 0
    assert ("chirp_stream_connections", frozenset()) in samples


@pytest.fixture(scope="module")
def two_process_api(
    kafka: KafkaBroker, redis_server: RedisServer, test_settings: Settings
) -> Iterator[ApiProcess]:
    with another_api(test_settings, "metrics-two", api_workers=2) as process:
        yield process


def test_two_api_processes_report_one_merged_count(
    client: ChirpClient, two_process_api: ApiProcess
) -> None:
    account = client.register()
    path, route = f"/v1/users/{account.handle}", "/v1/users/{handle}"
    metrics_url = f"{two_process_api.url}/metrics"
    before = requests_of(scrape(metrics_url), route)
    # A new connection each time: uvicorn's two workers share the listening socket.
    for _ in range(4 * REQUESTS):
        assert httpx.get(f"{two_process_api.url}{path}", timeout=30).status_code == 200
    histograms = {p.name for p in Path(two_process_api.metrics_dir).glob("histogram_*.db")}
    # Whichever process answers a scrape reports both processes' requests.
    for _ in range(6):
        assert requests_of(scrape(metrics_url), route) - before == 4 * REQUESTS
    assert len(histograms) == 2, histograms  # both processes served (and recorded) requests


def test_the_worker_serves_its_own_metrics(
    client: ChirpClient, worker: WorkerProcess, test_settings: Settings
) -> None:
    assert worker.metrics_url is not None
    author, fans = client.register(), [client.register(), client.register()]
    for fan in fans:
        client.follow(fan, author)
    before = scrape(worker.metrics_url)
    client.tweet(author, "to the author and two followers")
    assert len(client.home(fans[0])) == 1

    def deliveries() -> float:
        now = value(scrape(worker.metrics_url), "chirp_fanout_deliveries_total")
        return now - value(before, "chirp_fanout_deliveries_total")

    assert wait_for(lambda: deliveries() >= 1 + len(fans), timeout_s=10, what="deliveries")
    after = scrape(worker.metrics_url)
    applied = "chirp_worker_events_applied_total"
    for projection in ("tweets", "home_timelines", "user_timelines"):
        gained = value(after, applied, projection=projection) - value(
            before, applied, projection=projection
        )
        assert gained >= 1, projection
    batches = "chirp_worker_batch_duration_seconds_count"
    assert value(after, batches, family="tweets") > value(before, batches, family="tweets")

    tweets = test_settings.topic("tweets")
    lettered = value(after, "chirp_dead_letters_total", topic=tweets)
    producer = KafkaProducer(bootstrap_servers=test_settings.bootstrap_servers, acks="all")
    producer.send(tweets, key=author.user_id.encode(), value=b"not an event")
    producer.flush()
    producer.close()
    wait_for(
        lambda: (
            value(scrape(worker.metrics_url), "chirp_dead_letters_total", topic=tweets)
            == lettered + 1
        ),
        timeout_s=30,
        what="a dead letter counted",
    )
