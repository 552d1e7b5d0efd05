"""`make bench`: Chirp's benchmarks on this machine, each beside a baseline from the same run.

    python -m tests.perf [--users 10000] [--mean-followees 100] [--quick]

Starts a private stack under var/bench, loads a power-law social graph through the log,
then measures the write path, the read path, fan-out, replay and memory. Prints a table and
writes docs/perf/results.json (one flat object).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
from kafka import KafkaConsumer, TopicPartition
from redis import Redis
from redis.exceptions import RedisError
from rich.console import Console
from rich.table import Table

from api.auth import ALGORITHM
from api.positions import decode_token
from domain.ids import sortable_id
from infra.replay import projection_statuses, replay
from infra.settings import REPO_ROOT, Settings
from projections.registry import PROJECTION_FAMILIES
from tests.perf.report import render
from tests.perf.stack import BENCH_SECRET, BenchStack, running_stack
from tests.perf.vegeta import LoadResult, attack, target
from tests.perf.workload import (
    PASSWORD,
    SocialGraph,
    WorkloadShape,
    build_graph,
    graph_events,
    produce,
)
from tests.support.read_models import serving_namespace

console = Console()
RESULTS = REPO_ROOT / "docs" / "perf" / "results.json"


def token_for(user_id: int, handle: str) -> str:
    now = int(time.time())
    claims = {"sub": str(user_id), "handle": handle, "iat": now, "exp": now + 7200}
    return jwt.encode(claims, BENCH_SECRET, algorithm=ALGORITHM)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@contextmanager
def peak_rss(pids: dict[str, int]) -> Iterator[dict[str, int]]:
    """Samples the resident memory of each process every 100 ms; yields the peaks (MiB)."""
    peaks = dict.fromkeys(pids, 0)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            for name, pid in list(pids.items()):
                with suppress(OSError):
                    peaks[name] = max(peaks[name], rss_kb(pid) // 1024)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peaks
    finally:
        done.set()
        sampler.join()


def wait_caught_up(settings: Settings, what: str, timeout_s: float = 1800) -> float:
    started = time.monotonic()
    with console.status(f"{what}: waiting for the worker ...") as status:
        while True:
            lag = sum(s.lag for s in asyncio.run(projection_statuses(settings)))
            status.update(f"{what}: worker lag {lag:,} events")
            if lag == 0:
                return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                raise RuntimeError(f"worker still {lag} events behind after {timeout_s}s")
            time.sleep(1)


def load_workload(stack: BenchStack, shape: WorkloadShape) -> tuple[SocialGraph, dict[str, Any]]:
    from api.auth import Passwords

    graph = build_graph(shape)
    started = time.monotonic()
    events = asyncio.run(
        produce(stack.settings, graph_events(graph, shape, Passwords().hash(PASSWORD)))
    )
    produced_s = time.monotonic() - started
    projected_s = wait_caught_up(stack.settings, "load")
    counts = graph.followers_count()
    console.print(
        f"loaded {events:,} events ({graph.edges:,} follows, max {max(counts):,} followers) "
        f"in {produced_s:.0f}s + {projected_s:.0f}s of projection"
    )
    return graph, {
        "workload_users": shape.users,
        "workload_follows": graph.edges,
        "workload_max_followers": max(counts),
        "workload_events": events,
        "load_produce_events_per_s": round(events / produced_s),
        "load_project_seconds": round(projected_s, 1),
    }


async def activate(api_url: str, graph: SocialGraph, concurrency: int = 32) -> None:
    """Every user reads their home timeline once: active users get pushes."""
    queue = list(range(len(graph.user_ids)))

    async def reader(client: httpx.AsyncClient) -> None:
        while queue:
            index = queue.pop()
            token = token_for(graph.user_ids[index], graph.handles[index])
            response = await client.get(
                "/v1/timelines/home", headers={"Authorization": f"Bearer {token}"}
            )
            response.raise_for_status()

    async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:
        await asyncio.gather(*(reader(client) for _ in range(concurrency)))


def tweet_targets(
    url: str, graph: SocialGraph, count: int, rng: random.Random
) -> list[dict[str, Any]]:
    targets = []
    for n in range(count):
        index = rng.randrange(len(graph.user_ids))
        token = token_for(graph.user_ids[index], graph.handles[index])
        body = orjson.dumps({"text": f"benchmark tweet {n} #bench{n % 20}"})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        targets.append(target("POST", url, headers, body))
    return targets


def home_targets(
    url: str, graph: SocialGraph, count: int, rng: random.Random
) -> list[dict[str, Any]]:
    targets = []
    for _ in range(count):
        index = rng.randrange(len(graph.user_ids))
        token = token_for(graph.user_ids[index], graph.handles[index])
        targets.append(target("GET", url, {"Authorization": f"Bearer {token}"}))
    return targets


TargetMaker = Callable[[str, SocialGraph, int, random.Random], list[dict[str, Any]]]


def http_path(
    name: str,
    make_targets: TargetMaker,
    urls: tuple[str, str],
    rate: int,
    graph: SocialGraph,
    args: argparse.Namespace,
    settle: Callable[[], object] = lambda: None,
) -> tuple[dict[str, LoadResult], dict[str, Any]]:
    """The highest sustained rate and the latencies at `rate`, for Chirp and the baseline.

    `settle` runs after each pair of runs (the write path waits for the worker there).
    """
    rng = random.Random(name)
    api, base = urls
    results: dict[str, LoadResult] = {}
    with console.status(f"{name} path: highest sustained rate ..."):
        results["max"] = attack(
            make_targets(api, graph, 5000, rng), rate=0, duration_s=args.seconds
        )
        results["baseline_max"] = attack(
            make_targets(base, graph, 2000, rng), rate=0, duration_s=args.seconds
        )
    settle()
    with console.status(f"{name} path: {rate:,}/s open loop ..."):
        results["at_rate"] = attack(
            make_targets(api, graph, 5000, rng), rate=rate, duration_s=args.seconds
        )
        results["baseline_at_rate"] = attack(
            make_targets(base, graph, 2000, rng), rate=rate, duration_s=args.seconds
        )
    settle()
    at, max_, base_max = results["at_rate"], results["max"], results["baseline_max"]
    row = {
        f"{name}_max_rps": round(max_.achieved_rps, 1),
        f"{name}_p50_ms_at_{rate}_rps": round(at.p50_ms, 2),
        f"{name}_p95_ms_at_{rate}_rps": round(at.p95_ms, 2),
        f"{name}_p99_ms_at_{rate}_rps": round(at.p99_ms, 2),
        f"{name}_success_at_{rate}_rps": round(at.success_ratio, 4),
        f"{name}_baseline_max_rps": round(base_max.achieved_rps, 1),
        f"{name}_baseline_p95_ms_at_{rate}_rps": round(results["baseline_at_rate"].p95_ms, 2),
        f"{name}_ratio_to_baseline": round(max_.achieved_rps / base_max.achieved_rps, 3),
    }
    return results, row


def write_path(stack: BenchStack, graph: SocialGraph, args: argparse.Namespace) -> dict[str, Any]:
    urls = (f"{stack.api.url}/v1/tweets", f"{stack.baseline.url}/baseline/tweets")
    results, row = http_path(
        "write",
        tweet_targets,
        urls,
        1000,
        graph,
        args,
        settle=lambda: wait_caught_up(stack.settings, "write path"),
    )
    show("write path (POST /v1/tweets)", results)
    return row


def read_path(stack: BenchStack, graph: SocialGraph, args: argparse.Namespace) -> dict[str, Any]:
    urls = (
        f"{stack.api.url}/v1/timelines/home?limit=20",
        f"{stack.baseline.url}/baseline/timeline",
    )
    results, row = http_path("read", home_targets, urls, 2000, graph, args)
    show("read path (GET /v1/timelines/home, limit 20)", results)
    return row


def fanout(stack: BenchStack, graph: SocialGraph, args: argparse.Namespace) -> dict[str, Any]:
    """Tweets at a steady rate from well-followed authors; deliveries/s through the worker and
    the time from each 201 until the tweet is in every follower's home timeline (pushes are
    done before the positions move, so that is when the home_timelines positions pass its
    offset)."""
    settings = stack.settings
    followers = graph.followers_count()
    authors = sorted(range(len(graph.user_ids)), key=lambda i: -followers[i])[:200]
    rng = random.Random(3)
    redis = Redis.from_url(settings.redis_dsn, socket_timeout=120)
    positions_key = serving_namespace(redis, "home_timelines").positions_key
    visible_ms: list[float] = []
    deliveries = 0
    failures = 0
    pending: list[tuple[float, str, int]] = []
    done = threading.Event()

    def watch() -> None:
        while not (done.is_set() and not pending):
            try:
                raw = redis.hgetall(positions_key)
            except RedisError:
                continue  # a busy Redis: look again
            applied = {k.decode(): int(v) for k, v in raw.items()}
            now = time.monotonic()
            for item in list(pending):
                sent_at, field, offset = item
                if applied.get(field, -1) >= offset:
                    visible_ms.append((now - sent_at) * 1000)
                    pending.remove(item)
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    interval = 1.0 / args.fanout_rate
    started = time.monotonic()
    with httpx.Client(base_url=stack.api.url, timeout=30) as client:
        next_at = started
        while time.monotonic() - started < args.seconds:
            index = rng.choice(authors)
            token = token_for(graph.user_ids[index], graph.handles[index])
            response = client.post(
                "/v1/tweets",
                json={"text": "fan me out"},
                headers={"Authorization": f"Bearer {token}"},
            )
            received = time.monotonic()
            if response.status_code != 201:
                failures += 1
                continue
            [position] = decode_token(response.headers["Chirp-Position"])
            pending.append((received, position.field, position.offset))
            deliveries += followers[index] + 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
    done.set()
    watcher.join(timeout=600)
    elapsed = time.monotonic() - started
    baseline = raw_zadd_rate(redis)
    redis.close()
    visible_ms.sort()
    pct = lambda q: visible_ms[min(len(visible_ms) - 1, int(q * len(visible_ms)))]  # noqa: E731
    row = {
        "fanout_tweets": len(visible_ms),
        "fanout_tweets_per_s": round(len(visible_ms) / elapsed, 1),
        "fanout_failed_posts": failures,
        "fanout_deliveries_per_s": round(deliveries / elapsed),
        "fanout_visible_p50_ms": round(pct(0.50), 1),
        "fanout_visible_p95_ms": round(pct(0.95), 1),
        "fanout_visible_p99_ms": round(pct(0.99), 1),
        "fanout_baseline_raw_zadd_per_s": round(baseline),
    }
    row["fanout_ratio_to_raw_zadd"] = round(row["fanout_deliveries_per_s"] / baseline, 3)
    console.print(f"fan-out: {row}")
    return row


def raw_zadd_rate(redis: Redis, total: int = 200_000, batch: int = 1000) -> float:
    """Baseline: pipelined ZADDs from Python into 1,000 sorted sets, nothing else."""
    started = time.monotonic()
    for start in range(0, total, batch):
        pipe = redis.pipeline(transaction=False)
        for n in range(start, start + batch):
            pipe.zadd(f"bench:raw:{n % 1000}", {sortable_id(n + 1): 0})
        pipe.execute()
    elapsed = time.monotonic() - started
    for n in range(1000):
        redis.delete(f"bench:raw:{n}")
    return total / elapsed


def raw_consume_rate(settings: Settings, topics: list[str]) -> tuple[int, float]:
    """Baseline: kafka-python reading the same topics from the start, no decoding."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        max_poll_records=5000,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    partitions = [
        TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
    ]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = consumer.end_offsets(partitions)
    total = sum(ends.values())
    seen = 0
    started = time.monotonic()
    while seen < total:
        for records in consumer.poll(timeout_ms=500, max_records=5000).values():
            seen += len(records)
    elapsed = time.monotonic() - started
    consumer.close()
    return seen, seen / elapsed


def replay_all(stack: BenchStack) -> dict[str, Any]:
    settings = stack.settings
    events = 0
    seconds = 0.0
    per_projection = {}
    for name in PROJECTION_FAMILIES:
        with console.status(f"replaying {name} ..."):
            result = asyncio.run(replay(settings, name, lambda done, total: None, drop_grace_s=0.0))
        events += result.events
        seconds += result.seconds
        per_projection[f"replay_{name}_events_per_s"] = round(result.events_per_s)
    topics = sorted(
        {settings.topic(f) for families in PROJECTION_FAMILIES.values() for f in families}
    )
    raw_events, raw_rate = raw_consume_rate(settings, topics)
    rate = events / seconds
    row = {
        "replay_events": events,
        "replay_events_per_s": round(rate),
        "replay_raw_consume_events": raw_events,
        "replay_raw_consume_events_per_s": round(raw_rate),
        "replay_ratio_to_raw_consume": round(rate / raw_rate, 3),
        **per_projection,
    }
    console.print(f"replay: {row}")
    return row


def show(title: str, results: dict[str, LoadResult]) -> None:
    table = Table(title=title)
    for column in ("run", "requested/s", "achieved/s", "success", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column)
    for name, r in results.items():
        table.add_row(
            name,
            str(int(r.requested_rps) or "max"),
            f"{r.achieved_rps:,.0f}",
            f"{r.success_ratio:.3f}",
            f"{r.p50_ms:.1f}",
            f"{r.p95_ms:.1f}",
            f"{r.p99_ms:.1f}",
        )
    console.print(table)


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--mean-followees", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each load run")
    parser.add_argument(
        "--fanout-rate", type=float, default=40.0, help="tweets/s in the fan-out run"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    shape = WorkloadShape(users=args.users, mean_followees=args.mean_followees)
    started = time.monotonic()
    results: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}",
        "command": "make bench  (python -m tests.perf " + " ".join(sys.argv[1:]) + ")",
        "load_tool": "vegeta 12.12 (open loop at fixed rates; -rate=0 for the highest rate)",
    }
    with running_stack() as stack:
        graph, loaded = load_workload(stack, shape)
        results |= loaded
        with console.status("activating every user (one home timeline read each) ..."):
            asyncio.run(activate(stack.api.url, graph))
        results |= write_path(stack, graph, args)
        results |= read_path(stack, graph, args)
        with peak_rss(stack.pids) as fanout_peaks:
            results |= fanout(stack, graph, args)
        results |= {f"rss_mib_{name}_fanout": mib for name, mib in fanout_peaks.items()}
        with peak_rss(stack.pids | {"bench": os.getpid()}) as replay_peaks:
            results |= replay_all(stack)
        results |= {f"rss_mib_{name}_replay": mib for name, mib in replay_peaks.items()}
    results["bench_seconds"] = round(time.monotonic() - started)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    summary = Table(title="Chirp benchmark summary")
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    for key, value in results.items():
        summary.add_row(key, str(value))
    console.print(summary)
    if args.output == RESULTS:
        render(args.output)
    console.print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
