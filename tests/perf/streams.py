"""Live streams under load: idle connections one API process holds, and post-to-delivered.

Idle streams: `connections` clients each open `GET /v1/streams/home` (distinct users) and wait
for its `ready` event; the API process's resident memory before and after, per stream, beside
the baseline server holding as many idle event streams (sse-starlette, no Chirp code).

Post-to-delivered: followers of a set of ordinary authors listen on their streams while those
authors post through the API at `rate` per second (open loop); the time from sending each POST
(and, apart, from its 201) until each listening follower receives the tweet, beside
post-to-visible (from the 201 until the home_timelines projection has applied it) measured in
the same run.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from tests.perf.http_paths import token_for
from tests.perf.stack import BenchStack
from tests.perf.workload import SocialGraph

OPEN_BATCH = 100  # connections opened at once
READY = b"event: ready"


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def open_stream(
    url: str, path: str, token: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw HTTP/1.1 connection on an event stream, once its `ready` event arrived."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n"
        f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    await writer.drain()
    received = b""
    while READY not in received:
        chunk = await asyncio.wait_for(reader.read(65536), timeout=60)
        if not chunk:
            raise ConnectionError(f"{path} closed before it was ready: {received[:200]!r}")
        received += chunk
    return reader, writer


async def hold_idle(url: str, path: str, pid: int, tokens: list[str]) -> dict[str, float]:
    """Opens one stream per token, measures the server's memory growth, checks they all stay
    open a moment, closes them."""
    before = rss_kb(pid)
    streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    started = time.monotonic()
    for first in range(0, len(tokens), OPEN_BATCH):
        batch = tokens[first : first + OPEN_BATCH]
        streams += await asyncio.gather(*(open_stream(url, path, token) for token in batch))
    opened_s = time.monotonic() - started
    await asyncio.sleep(2.0)
    after = rss_kb(pid)
    alive = sum(not reader.at_eof() for reader, _ in streams)
    for _, writer in streams:
        writer.close()
    return {
        "held": alive,
        "open_s": round(opened_s, 1),
        "rss_before_mib": round(before / 1024, 1),
        "rss_after_mib": round(after / 1024, 1),
        "kib_per_stream": round((after - before) / max(1, len(streams)), 1),
    }


def idle_streams(stack: BenchStack, graph: SocialGraph, connections: int) -> dict[str, Any]:
    users = len(graph.user_ids)  # more connections than users: some users connect twice
    tokens = [
        token_for(graph.user_ids[i % users], graph.handles[i % users]) for i in range(connections)
    ]
    api_pid, baseline_pid = stack.api.pid(), stack.baseline.pid()
    assert api_pid is not None and baseline_pid is not None
    chirp = asyncio.run(hold_idle(stack.api.url, "/v1/streams/home", api_pid, tokens))
    baseline = asyncio.run(hold_idle(stack.baseline.url, "/baseline/stream", baseline_pid, tokens))
    return {
        "streams_idle_requested": connections,
        "streams_idle_held": chirp["held"],
        "streams_idle_open_s": chirp["open_s"],
        "streams_idle_rss_mib_before": chirp["rss_before_mib"],
        "streams_idle_rss_mib_after": chirp["rss_after_mib"],
        "streams_idle_kib_per_stream": chirp["kib_per_stream"],
        "streams_idle_baseline_held": baseline["held"],
        "streams_idle_baseline_kib_per_stream": baseline["kib_per_stream"],
    }


async def listen(
    url: str, token: str, arrivals: dict[str, list[float]], ready: asyncio.Event
) -> None:
    """Records when each entry arrives, by tweet id, until cancelled."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(30, read=None)) as client,
        client.stream("GET", "/v1/streams/home", headers=headers) as response,
    ):
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
                if event == "ready":
                    ready.set()
            elif line.startswith("data:") and event == "entry":
                tweet = orjson.loads(line.split(":", 1)[1])
                arrivals[tweet["id"]].append(time.monotonic())


def post_to_delivered(
    stack: BenchStack, graph: SocialGraph, *, rate: float, seconds: float, listeners: int
) -> dict[str, Any]:
    followers_count = graph.followers_count()
    ordinary = sorted(range(len(graph.user_ids)), key=lambda i: -followers_count[i])[200:]
    rng = random.Random(7)
    authors = rng.sample(ordinary, min(50, len(ordinary)))
    audience: dict[int, set[int]] = defaultdict(set)  # author index -> listening followers
    listening: list[int] = []
    for user, followees in enumerate(graph.followees):
        picked = followees.intersection(authors)
        if picked and len(listening) < listeners:
            listening.append(user)
            for author in picked:
                audience[author].add(user)
    authors = [a for a in authors if audience[a]]
    for author in set(authors).intersection(listening):
        audience[author].add(author)  # your own tweets come on your own home stream too

    async def run() -> tuple[list[float], list[float], int, int]:
        arrivals: dict[str, list[float]] = defaultdict(list)
        readies = [asyncio.Event() for _ in listening]
        tasks = [
            asyncio.create_task(
                listen(stack.api.url, token_for(graph.user_ids[u], graph.handles[u]), arrivals, r)
            )
            for u, r in zip(listening, readies, strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=120)
        sent: dict[str, tuple[float, float, int]] = {}  # id -> sent at, 201 at, listeners
        failures = 0

        async def post(client: httpx.AsyncClient, author: int) -> None:
            nonlocal failures
            token = token_for(graph.user_ids[author], graph.handles[author])
            at = time.monotonic()
            try:
                response = await client.post(
                    "/v1/tweets",
                    json={"text": "live to my followers"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as error:  # counted and reported, never the end of the run
                print(f"post failed: {error!r}")
                failures += 1
                return
            if response.status_code != 201:
                failures += 1
                return
            sent[response.json()["id"]] = (at, time.monotonic(), len(audience[author]))

        limits = httpx.Limits(max_connections=256)
        async with httpx.AsyncClient(base_url=stack.api.url, timeout=30, limits=limits) as client:
            started = time.monotonic()
            posts = []
            for n in range(int(seconds * rate)):
                await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
                posts.append(asyncio.create_task(post(client, rng.choice(authors))))
            await asyncio.gather(*posts)
        expected = sum(listeners for _, _, listeners in sent.values())
        deadline = time.monotonic() + 30
        while sum(len(arrivals[t]) for t in sent) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        delays = sorted(
            (arrived - sent_at) * 1000
            for tweet, (sent_at, _, _) in sent.items()
            for arrived in arrivals[tweet]
        )
        after_201 = sorted(
            max(0.0, arrived - acked_at) * 1000
            for tweet, (_, acked_at, _) in sent.items()
            for arrived in arrivals[tweet]
        )
        return delays, after_201, expected, failures

    delays, after_201, expected, failures = asyncio.run(run())
    return {
        "stream_delivery_rate": rate,
        "stream_delivery_listeners": len(listening),
        "stream_deliveries_expected": expected,
        "stream_deliveries_received": len(delays),
        "stream_delivery_failed_posts": failures,
        "stream_delivery_p50_ms": round(percentile(delays, 0.50), 1),
        "stream_delivery_p95_ms": round(percentile(delays, 0.95), 1),
        "stream_delivery_p99_ms": round(percentile(delays, 0.99), 1),
        # From the 201 instead of the POST: without the write path's own queueing.
        "stream_delivery_after_201_p50_ms": round(percentile(after_201, 0.50), 1),
        "stream_delivery_after_201_p95_ms": round(percentile(after_201, 0.95), 1),
    }
