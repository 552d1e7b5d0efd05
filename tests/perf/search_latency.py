"""Search under the write load: GET /v1/search/tweets p95 beside the baseline, and how soon a
tweet is searchable after its 201.

The search indexer starts on the bench stack and first indexes the whole log the workload left.
Then POST /v1/tweets runs open loop at the bench's write rate (that of post-to-visible) while,
in turn, Chirp's search (20 hydrated tweets a page) and the baseline's canned 20-tweet page are
read open loop at 50/s, and one client posts tweets with words of their own and polls the search
until each is found (the time from its 201 to the first page that shows it).
"""

from __future__ import annotations

import contextlib
import math
import random
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx
from kafka import KafkaConsumer, TopicPartition
from rich.console import Console

from infra.app_processes import IndexerProcess
from projections.search_index import TweetIndexReader
from tests.perf.http_paths import TARGETS_BASELINE, TARGETS_CHIRP, token_for, tweet_targets
from tests.perf.stack import BenchStack
from tests.perf.vegeta import LoadResult, attack, target
from tests.perf.workload import SocialGraph

console = Console()

SEARCH_RATE = 50  # searches per second, open loop, for Chirp and the baseline alike
DEFAULT_WRITE_RATE = 200
VISIBLE_PROBES = 20
PROBE_EVERY_S = 0.01
PROBE_GIVE_UP_S = 10.0  # a probe never found counts as this long
CATCH_UP_TIMEOUT_S = 300.0
QUERIES = ("benchmark", "tweet #bench{n}", '"benchmark tweet"', "#bench{n} benchmark")


def index_lag(stack: BenchStack, reader: TweetIndexReader) -> int:
    topic = stack.settings.topic("tweets")
    consumer = KafkaConsumer(bootstrap_servers=stack.settings.bootstrap_servers)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = consumer.end_offsets(partitions)
    finally:
        consumer.close()
    applied = reader.positions(force=True)
    return sum(
        max(0, end - 1 - applied.get(f"{tp.topic}:{tp.partition}", -1))
        for tp, end in ends.items()
        if end > 0
    )


def wait_indexed(stack: BenchStack, reader: TweetIndexReader) -> float:
    started = time.monotonic()
    while index_lag(stack, reader) > 0:
        if time.monotonic() - started > CATCH_UP_TIMEOUT_S:
            raise TimeoutError("the search indexer did not catch up with the log")
        time.sleep(0.2)
    return time.monotonic() - started


def search_targets(url: str, count: int, rng: random.Random) -> list[dict[str, Any]]:
    targets = []
    for n in range(count):
        q = rng.choice(QUERIES).format(n=n % 20)
        sort = "relevance" if n % 4 == 3 else "recent"
        targets.append(target("GET", f"{url}?q={quote(q)}&sort={sort}&limit=20", {}))
    return targets


def searchable_after_201(api_url: str, graph: SocialGraph, probes: int) -> list[float]:
    """Milliseconds from each probe tweet's 201 to the first search page that has it."""
    token = token_for(graph.user_ids[0], graph.handles[0])
    latencies = []
    with httpx.Client(base_url=api_url, timeout=10) as client:
        for _ in range(probes):
            word = "zq" + secrets.token_hex(6)
            try:
                posted = client.post(
                    "/v1/tweets",
                    json={"text": f"probe {word}"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TimeoutException:
                continue  # an overloaded write path: this probe measures nothing
            if posted.status_code != 201:
                continue
            created = time.monotonic()
            while time.monotonic() - created < PROBE_GIVE_UP_S:
                # Anonymous: no read-your-writes wait, the index as it is.
                with contextlib.suppress(httpx.TimeoutException):
                    page = client.get("/v1/search/tweets", params={"q": word})
                    if page.status_code == 200 and page.json()["data"]:
                        break
                time.sleep(PROBE_EVERY_S)
            latencies.append((time.monotonic() - created) * 1000)
            time.sleep(0.2)
    return latencies


def search_under_write_load(
    stack: BenchStack, graph: SocialGraph, seconds: float, write_rate: int | None
) -> dict[str, Any]:
    rate = write_rate or DEFAULT_WRITE_RATE
    rng = random.Random("search")
    indexer = IndexerProcess(stack.settings)
    indexer.start()
    try:
        indexer.wait_ready(timeout=120)
        reader = TweetIndexReader(stack.settings.search_index_dir)
        with console.status("search indexer: indexing the workload's tweets ..."):
            catch_up_s = wait_indexed(stack, reader)
        writes = tweet_targets(stack.api.url + "/v1/tweets", graph, TARGETS_CHIRP, rng)
        chirp_targets = search_targets(stack.api.url + "/v1/search/tweets", TARGETS_CHIRP, rng)
        baseline_targets = [
            target("GET", stack.baseline.url + "/baseline/timeline", {})
        ] * TARGETS_BASELINE
        results: dict[str, LoadResult] = {}
        with (
            console.status(f"search at {SEARCH_RATE}/s under {rate:,} writes/s ..."),
            ThreadPoolExecutor(2) as pool,
        ):
            load = pool.submit(attack, writes, rate=rate, duration_s=2 * seconds + 1)
            time.sleep(0.5)  # the writes are flowing before anything is measured
            visible = pool.submit(searchable_after_201, stack.api.url, graph, VISIBLE_PROBES)
            results["search"] = attack(chirp_targets, rate=SEARCH_RATE, duration_s=seconds)
            results["baseline"] = attack(baseline_targets, rate=SEARCH_RATE, duration_s=seconds)
            probes = sorted(visible.result())
            results["writes"] = load.result()
    finally:
        indexer.stop()
    visible_ms = probes or [math.nan]
    search, baseline, writes_run = results["search"], results["baseline"], results["writes"]
    return {
        "search_index_catch_up_s": round(catch_up_s, 1),
        "search_write_load_rps": rate,
        "search_write_load_success": round(writes_run.success_ratio, 4),
        "search_rate": SEARCH_RATE,
        "search_p50_ms_under_writes": round(search.p50_ms, 2),
        "search_p95_ms_under_writes": round(search.p95_ms, 2),
        "search_success_under_writes": round(search.success_ratio, 4),
        "search_baseline_p95_ms_under_writes": round(baseline.p95_ms, 2),
        "search_p95_ratio_to_baseline": round(search.p95_ms / baseline.p95_ms, 2),
        "search_visible_after_201_p50_ms": round(visible_ms[len(visible_ms) // 2], 1),
        "search_visible_after_201_max_ms": round(visible_ms[-1], 1),
        "search_visible_probes": len(probes),
    }
