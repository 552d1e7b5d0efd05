"""`make bench`: Chirp's benchmarks on this machine, each beside a baseline from the same run.

    python -m tests.perf                  # the full run; writes docs/perf/results.json
    python -m tests.perf --quick          # a small workload, a few minutes; var/bench-quick.json
    python -m tests.perf --users 1000 --mean-followees 20 --seconds 5 --output /tmp/b.json

First the worker's fan-out code path alone on a single Redis and on a 3-master Redis Cluster;
then a private stack under var/bench: a power-law social graph loaded through the log (the
worker's follow throughput beside raw consumption of the follows topic), the write and read
paths with one and with two API processes, the home read through the Mastodon API beside
`/v1`'s, end-to-end fan-out, replay and memory. Prints a
table and writes one flat JSON object; only a full-size run may write docs/perf/results.json.
What the run has measured so far is rewritten to var/bench-partial.json after each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import io
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient
from PIL import Image
from redis import Redis
from redis.exceptions import RedisError
from rich.console import Console
from rich.table import Table

from api.auth import Passwords
from api.positions import decode_token
from domain.events import TweetPosted
from domain.ids import IdGenerator, sortable_id
from infra.replay import projection_statuses, replay
from infra.settings import REPO_ROOT, Settings
from projections.registry import PROJECTION_FAMILIES
from projections.writer import decode_positions
from schemas.log import FOLLOWS_BY_FOLLOWEE_FAMILY
from tests.perf import capacity, fanout_writer, mastodon_timelines, streams
from tests.perf.http_paths import HttpPath, by_api_processes, home_targets, token_for, tweet_targets
from tests.perf.report import render
from tests.perf.search_latency import search_under_write_load
from tests.perf.stack import BENCH_DIR, BenchStack, bench_settings, running_stack
from tests.perf.streams import percentile, rss_kb
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
REDUCED_RESULTS = REPO_ROOT / "var" / "bench-quick.json"
# What a run has measured so far, rewritten after each phase: a run stopped early keeps it.
PARTIAL_RESULTS = REPO_ROOT / "var" / "bench-partial.json"

# Run sizes: `make bench` uses FULL; `--quick` uses QUICK; single flags override either.
FULL = {"users": 10_000, "mean_followees": 100, "seconds": 15.0, "fanout_tweets": 1000}
QUICK = {"users": 1000, "mean_followees": 20, "seconds": 5.0, "fanout_tweets": 300}
UNDER_WRITES_SHARE_OF_CAPACITY = 0.5  # of one API process's highest write rate in the run


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


# --- the worker's progress -------------------------------------------------------------------


def follow_edges_lag(settings: Settings, admin: KafkaAdminClient, consumer: KafkaConsumer) -> int:
    """Follows not yet in the worker's edge table: its consumer group's committed offsets on
    the by-followee topic (Faust commits every few seconds) against the topic's end."""
    topic = settings.topic(FOLLOWS_BY_FOLLOWEE_FAMILY)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    ends = consumer.end_offsets(partitions)
    group = settings.worker_id  # Faust's consumer group is the app id
    committed = admin.list_group_offsets({group: partitions}).get(group, {})
    return sum(
        max(0, end - max(0, committed[tp].offset if tp in committed else 0))
        for tp, end in ends.items()
    )


def wait_caught_up(settings: Settings, what: str, timeout_s: float = 3600) -> float:
    """Until every projection has applied the whole log and the edge table has every follow."""
    started = time.monotonic()
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    try:
        with console.status(f"{what}: waiting for the worker ...") as status:
            while True:
                lag = sum(s.lag for s in asyncio.run(projection_statuses(settings)))
                edges = follow_edges_lag(settings, admin, consumer)
                status.update(f"{what}: worker lag {lag:,} events, {edges:,} follow edges")
                if lag == 0 and edges == 0:
                    return time.monotonic() - started
                if time.monotonic() - started > timeout_s:
                    behind = lag + edges
                    raise RuntimeError(f"worker still {behind} events behind after {timeout_s}s")
                time.sleep(0.5)
    finally:
        consumer.close()
        admin.close()


# --- load ------------------------------------------------------------------------------------


def load_workload(stack: BenchStack, shape: WorkloadShape) -> tuple[SocialGraph, dict[str, Any]]:
    """Produce the workload into the log while the worker projects it, as it would live.

    The worker's follow throughput is the follows over the time from the first event produced
    until every projection and the edge table have caught up (the follows are ~97 % of the
    events; the rest are the users and two tweets each)."""
    graph = build_graph(shape)
    password_hash = Passwords().hash(PASSWORD)
    started = time.monotonic()
    events = asyncio.run(produce(stack.settings, graph_events(graph, shape, password_hash))).events
    produced_s = time.monotonic() - started
    projected_s = wait_caught_up(stack.settings, "load")
    worker_s = time.monotonic() - started
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
        "worker_follow_seconds": round(worker_s, 1),
        "worker_follow_events_per_s": round(graph.edges / worker_s),
    }


def follows_raw_consume(settings: Settings, follow_rate: float) -> dict[str, Any]:
    """Baseline of the worker's follow throughput: raw consumption of the follows topic."""
    with console.status("raw consumption of the follows topic ..."):
        events, rate = raw_consume_rate(settings, [settings.topic("follows")])
    return {
        "worker_follow_raw_consume_events": events,
        "worker_follow_raw_consume_events_per_s": round(rate),
        "worker_follow_ratio_to_raw_consume": round(follow_rate / rate, 3),
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


# --- the HTTP paths --------------------------------------------------------------------------


def http_paths(stack: BenchStack, graph: SocialGraph, seconds: float) -> dict[str, Any]:
    write = HttpPath(
        "write",
        "write path (POST /v1/tweets)",
        tweet_targets,
        "/v1/tweets",
        "/baseline/tweets",
        share_of_baseline=0.20,
        settle=lambda: wait_caught_up(stack.settings, "write path"),
    )
    read = HttpPath(
        "read",
        "read path (GET /v1/timelines/home, limit 20)",
        home_targets,
        "/v1/timelines/home?limit=20",
        "/baseline/timeline",
        share_of_baseline=0.10,
    )
    return by_api_processes(stack, [write, read], graph, seconds)


# --- fan-out ---------------------------------------------------------------------------------


def applied_positions(redis: Redis, positions_key: str) -> dict[str, int]:
    while True:
        try:
            return decode_positions(redis.hgetall(positions_key))
        except RedisError:
            continue  # a busy Redis: look again


def fanout_capacity(stack: BenchStack, graph: SocialGraph, tweets: int) -> dict[str, Any]:
    """The worker's fan-out throughput: a burst of tweets from the 200 most-followed authors,
    produced into the log at once as the API would; deliveries/s from the first produce
    until the home_timelines positions pass every one of them (pushes are written before
    the positions move)."""
    settings = stack.settings
    followers = graph.followers_count()
    authors = sorted(range(len(graph.user_ids)), key=lambda i: -followers[i])[:200]
    rng = random.Random(3)
    chosen = [rng.choice(authors) for _ in range(tweets)]
    ids = IdGenerator(node_id=1002)
    now = time.time_ns() // 1_000_000
    burst = (TweetPosted(ids.next_id(), graph.user_ids[i], "fan me out", now) for i in chosen)
    redis = Redis.from_url(settings.redis_dsn, socket_timeout=120)
    positions_key = serving_namespace(redis, "home_timelines").positions_key
    started = time.monotonic()
    ends = asyncio.run(produce(settings, burst)).last_offsets
    while any(applied_positions(redis, positions_key).get(f, -1) < o for f, o in ends.items()):
        time.sleep(0.005)
    elapsed = time.monotonic() - started
    baseline = raw_zadd_rate(redis)
    redis.close()
    deliveries = sum(followers[i] + 1 for i in chosen)
    row = {
        "fanout_tweets": tweets,
        "fanout_deliveries": deliveries,
        "fanout_seconds": round(elapsed, 2),
        "fanout_deliveries_per_s": round(deliveries / elapsed),
        "fanout_baseline_raw_zadd_per_s": round(baseline),
    }
    row["fanout_ratio_to_raw_zadd"] = round(row["fanout_deliveries_per_s"] / baseline, 3)
    console.print(f"fan-out capacity: {row}")
    return row


def post_to_visible(
    stack: BenchStack, graph: SocialGraph, args: argparse.Namespace
) -> dict[str, Any]:
    """Tweets from ordinary authors (all but the 200 most-followed) through the API at
    `--visible-rate` per second, open loop, for `--seconds`: the time from each 201 until
    the tweet is in every follower's home timeline (the home_timelines positions pass its
    offset; polled every 2 ms)."""
    followers = graph.followers_count()
    authors = sorted(range(len(graph.user_ids)), key=lambda i: -followers[i])[200:]
    rng = random.Random(4)
    redis = Redis.from_url(stack.settings.redis_dsn, socket_timeout=120)
    positions_key = serving_namespace(redis, "home_timelines").positions_key
    visible_ms: list[float] = []
    pending: list[tuple[float, str, int]] = []
    done = threading.Event()

    def watch() -> None:
        while not (done.is_set() and not pending):
            applied = applied_positions(redis, positions_key)
            now = time.monotonic()
            for item in list(pending):
                received, field, offset = item
                if applied.get(field, -1) >= offset:
                    visible_ms.append((now - received) * 1000)
                    pending.remove(item)
            time.sleep(0.002)

    async def post_all() -> int:
        failures = 0

        async def post(client: httpx.AsyncClient, index: int) -> None:
            nonlocal failures
            token = token_for(graph.user_ids[index], graph.handles[index])
            try:
                response = await client.post(
                    "/v1/tweets",
                    json={"text": "see me soon"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as error:  # counted and reported, never the end of the run
                console.print(f"post failed: {error!r}")
                failures += 1
                return
            if response.status_code != 201:
                failures += 1
                return
            [position] = decode_token(response.headers["Chirp-Position"])
            pending.append((time.monotonic(), position.field, position.offset))

        limits = httpx.Limits(max_connections=256)
        async with httpx.AsyncClient(base_url=stack.api.url, timeout=30, limits=limits) as client:
            started = time.monotonic()
            posts = []
            for n in range(int(args.seconds * args.visible_rate)):
                await asyncio.sleep(max(0.0, started + n / args.visible_rate - time.monotonic()))
                posts.append(asyncio.create_task(post(client, rng.choice(authors))))
            await asyncio.gather(*posts)
        return failures

    watcher = threading.Thread(target=watch)
    watcher.start()
    failures = asyncio.run(post_all())
    done.set()
    watcher.join(timeout=600)
    redis.close()
    visible_ms.sort()
    row = {
        "fanout_visible_rate": args.visible_rate,
        "fanout_visible_tweets": len(visible_ms),
        "fanout_visible_failed_posts": failures,
        "fanout_visible_p50_ms": round(percentile(visible_ms, 0.50), 1),
        "fanout_visible_p95_ms": round(percentile(visible_ms, 0.95), 1),
        "fanout_visible_p99_ms": round(percentile(visible_ms, 0.99), 1),
    }
    console.print(f"post-to-visible: {row}")
    return row


def one_megabyte_jpeg() -> bytes:
    """A 1 MB JPEG photo-like image (noise compresses badly, as photos do)."""
    side = 640
    while True:
        out = io.BytesIO()
        Image.effect_noise((side, side), 64).convert("RGB").save(out, "JPEG", quality=92)
        if out.tell() >= 1_000_000:
            return out.getvalue()
        side += 64


def media_uploads(stack: BenchStack, graph: SocialGraph, seconds: float) -> dict[str, Any]:
    """Uploads of a 1 MB JPEG per second (decoded, renditions made, stored, event produced)
    beside the same HTTP stack reading the same upload and answering 201."""
    photo = one_megabyte_jpeg()

    async def rate(url: str, path: str) -> float:
        done = 0
        deadline = time.monotonic() + seconds

        async def uploader(client: httpx.AsyncClient, user: int) -> None:
            nonlocal done
            token = token_for(graph.user_ids[user], graph.handles[user])
            while time.monotonic() < deadline:
                response = await client.post(
                    path,
                    files={"file": ("photo.jpg", photo, "image/jpeg")},
                    headers={"Authorization": f"Bearer {token}"},
                )
                response.raise_for_status()
                done += 1

        started = time.monotonic()
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            await asyncio.gather(*(uploader(client, user) for user in range(4)))
        return done / (time.monotonic() - started)

    with console.status("uploads of a 1 MB JPEG ..."):
        chirp = asyncio.run(rate(stack.api.url, "/v1/media"))
        baseline = asyncio.run(rate(stack.baseline.url, "/baseline/media"))
    return {
        "media_upload_bytes": len(photo),
        "media_uploads_per_s": round(chirp, 1),
        "media_upload_baseline_per_s": round(baseline, 1),
        "media_upload_ratio_to_baseline": round(chirp / baseline, 3),
    }


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


def fanout_single_and_cluster(tweets: int) -> dict[str, Any]:
    """The worker's fan-out code path alone (no Kafka): a single Redis, then a Redis Cluster."""
    shape = fanout_writer.FanoutShape(tweets=tweets)
    settings = bench_settings(BENCH_DIR / "fanout")
    with console.status("fan-out through the projection writer: single Redis, then Cluster"):
        single, cluster = fanout_writer.single_and_cluster(settings, shape)
    row = {
        "fanout_writer_authors": shape.authors,
        "fanout_writer_followers_per_author": shape.followers_per_author,
        "fanout_writer_tweets_per_batch": shape.tweets_per_batch,
        "fanout_writer_deliveries": single.deliveries,
        "fanout_single_deliveries_per_s": round(single.deliveries_per_s),
        "fanout_cluster_deliveries_per_s": round(cluster.deliveries_per_s),
        "fanout_cluster_ratio_to_single": round(
            cluster.deliveries_per_s / single.deliveries_per_s, 3
        ),
    }
    console.print(f"fan-out, projection writer alone: {row}")
    return row


# --- replay ----------------------------------------------------------------------------------


def raw_consume_rate(settings: Settings, topics: list[str]) -> tuple[int, float]:
    """Baseline: kafka-python reading the topics from the start, no decoding."""
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


# --- the run ---------------------------------------------------------------------------------


def under_writes_rate(results: dict[str, Any], visible_rate: float) -> int:
    """The write rate under which search and live streams are measured: the post-to-visible
    rate, or half of what one API process sustained in this run if that is lower. Offered
    beyond the write path's capacity, writes queue without bound and those figures would
    measure the queue (the write path's own latency is reported beside its baseline)."""
    sustained = float(results["write_max_rps_1proc"])
    return max(1, round(min(visible_rate, UNDER_WRITES_SHARE_OF_CAPACITY * sustained)))


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    return done.stdout.strip()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small run: " + ", ".join(f"{k}={v}" for k, v in QUICK.items()),
    )
    parser.add_argument("--users", type=int, help=f"default {FULL['users']:,}")
    parser.add_argument("--mean-followees", type=int, help=f"default {FULL['mean_followees']}")
    parser.add_argument("--seconds", type=float, help=f"each load run ({FULL['seconds']} s)")
    parser.add_argument(
        "--fanout-tweets",
        type=int,
        help=f"tweets through the projection writer per Redis deployment ({FULL['fanout_tweets']})",
    )
    parser.add_argument(
        "--idle-streams",
        type=int,
        default=2000,
        help="idle live streams one API process is asked to hold",
    )
    parser.add_argument(
        "--visible-rate",
        type=float,
        default=200.0,
        help="tweets/s from ordinary authors in the post-to-visible run",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help=f"default {RESULTS.relative_to(REPO_ROOT)} for a full-size run, "
        f"else {REDUCED_RESULTS.relative_to(REPO_ROOT)}",
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    for name, value in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    full_size = all(getattr(args, name) == value for name, value in FULL.items())
    if args.output is None:
        args.output = RESULTS if full_size else REDUCED_RESULTS
    elif args.output.resolve() == RESULTS and not full_size:
        parser.error(f"only a full-size run may write {RESULTS.relative_to(REPO_ROOT)}")
    return args


def save_partial(results: dict[str, Any]) -> None:
    PARTIAL_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    PARTIAL_RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def main() -> None:
    args = parse_args()
    shape = WorkloadShape(users=args.users, mean_followees=args.mean_followees)
    started = time.monotonic()
    results: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}",
        "command": "python -m tests.perf " + " ".join(sys.argv[1:]),
        "load_tool": "vegeta 12.12 (open loop at fixed rates; -rate=0 for the highest rate)",
    }
    shutil.rmtree(BENCH_DIR, ignore_errors=True)
    results |= fanout_single_and_cluster(args.fanout_tweets)
    save_partial(results)
    with running_stack(BENCH_DIR / "stack") as stack:
        graph, loaded = load_workload(stack, shape)
        results |= loaded
        results |= follows_raw_consume(stack.settings, loaded["worker_follow_events_per_s"])
        save_partial(results)
        with console.status("activating every user (one home timeline read each) ..."):
            asyncio.run(activate(stack.api.url, graph))
        results |= http_paths(stack, graph, args.seconds)
        save_partial(results)
        results |= mastodon_timelines.home_read_rates(stack, graph, args.seconds)
        results["under_writes_rate"] = under_writes_rate(results, args.visible_rate)
        rate = results["under_writes_rate"]
        results |= search_under_write_load(stack, graph, args.seconds, rate)
        results |= media_uploads(stack, graph, args.seconds)
        save_partial(results)
        with peak_rss(stack.pids) as fanout_peaks:
            results |= fanout_capacity(stack, graph, args.fanout_tweets)
            save_partial(results)
            results |= post_to_visible(stack, graph, args)
            with console.status("post-to-delivered on live streams ..."):
                results |= streams.post_to_delivered(
                    stack, graph, rate=rate, seconds=args.seconds, listeners=200
                )
            results["stream_delivery_p95_ratio_to_visible"] = round(
                results["stream_delivery_p95_ms"] / results["fanout_visible_p95_ms"], 3
            )
        with console.status(f"{args.idle_streams} idle live streams on one API process ..."):
            results |= streams.idle_streams(stack, graph, args.idle_streams)
        results |= {f"rss_mib_{name}_fanout": mib for name, mib in fanout_peaks.items()}
        save_partial(results)
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
    if args.output.resolve() == RESULTS:
        render(args.output)
        capacity.write(args.output)
    console.print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
