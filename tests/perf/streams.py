"""Live streams under load: idle connections one API process holds, and post-to-delivered.

Idle streams: `connections` clients each open `GET /v1/streams/home` (distinct users) and wait
for its `ready` event; the API process's resident memory before and after, per stream, beside
the baseline server holding as many idle event streams (sse-starlette, no Chirp code).

Post-to-delivered: followers of a set of ordinary authors listen on their streams while those
authors post through the API at `rate` per second (vegeta, open loop); the time from sending
each POST (and, apart, from its 201) until each listening follower receives the tweet, beside
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

import orjson

from tests.perf import vegeta
from tests.perf.http_paths import token_for
from tests.perf.stack import BenchStack
from tests.perf.workload import SocialGraph

OPEN_BATCH = 100  # connections opened at once
READY = b"event: ready"
ENTRY = b"event: entry"


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
    """Records when each entry arrives, by tweet id, until cancelled.

    A raw connection, not an HTTP client: 200 listeners parsing lines through httpx cost the
    bench process more CPU than the API spends serving them, and on two cores that queueing
    would be measured as delivery time. Each SSE event is one chunk of the response, so the
    chunk framing only adds lines no event field starts with."""
    reader, writer = await open_stream(url, "/v1/streams/home", token)
    ready.set()
    pending = b""
    try:
        while chunk := await reader.read(65536):
            now = time.time()  # beside vegeta's send times, which are wall-clock
            pending = (pending + chunk).replace(b"\r\n", b"\n")
            *events, pending = pending.split(b"\n\n")
            for event in events:
                if ENTRY not in event:
                    continue
                for line in event.split(b"\n"):
                    if line.startswith(b"data:"):
                        arrivals[orjson.loads(line[5:])["id"]].append(now)
    finally:
        writer.close()


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

    index_of = {str(user_id): index for index, user_id in enumerate(graph.user_ids)}
    targets = [
        vegeta.target(
            "POST",
            f"{stack.api.url}/v1/tweets",
            {
                "Authorization": f"Bearer {token_for(graph.user_ids[a], graph.handles[a])}",
                "Content-Type": "application/json",
            },
            orjson.dumps({"text": "live to my followers"}),
        )
        for a in (rng.choice(authors) for _ in range(max(1, int(seconds * rate))))
    ]

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
        # The POSTs come from vegeta, open loop: an HTTP client in this process, beside the
        # listeners, would queue them in its own event loop on this machine's two cores.
        hits = await vegeta.attack_hits(targets, rate=round(rate), duration_s=seconds)
        sent: dict[str, tuple[float, float, int]] = {}  # id -> sent at, 201 at, listeners
        for hit in hits:
            if hit.status == 201:
                tweet = orjson.loads(hit.body)
                listeners_of = len(audience[index_of[tweet["author"]["id"]]])
                sent[tweet["id"]] = (hit.sent_at, hit.sent_at + hit.latency_s, listeners_of)
        failures = len(hits) - len(sent)
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
