"""The API's Prometheus metrics: what they are, how requests are timed, how `/metrics` reads.

Several API processes (uvicorn workers, or processes side by side) each write their samples to
files in the directory `PROMETHEUS_MULTIPROC_DIR` names, which the process launcher sets per run
directory before `prometheus_client` is imported; a scrape of any of them then merges every
process's files. Without that directory (a single process, an in-process test) the samples
live in this object's own registry.

Labels stay few: routes by template (`/v1/tweets/{tweet_id}`), never by raw path, and statuses
by class (`2xx`). Must never fail a request: recording is in-memory (or an mmap'd file).
"""

from __future__ import annotations

import bisect
import os
import time
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.lag import ServingLag
from projections.writer import Positions

# Seconds; 0.1 and 0.2 are the alert thresholds of writes and timeline reads.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0)
PRODUCE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
UNMATCHED_ROUTE = "unmatched"  # a path no route serves (404s): one series, not one per path
LAG_HISTORY_S = 3600.0  # lag in seconds is known up to an hour; older is reported as an hour
LAG_HISTORY_ENTRIES = 4096  # per partition


class ApiMetrics:
    """Every metric the API records, in a registry of its own."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "chirp_http_request_duration_seconds",
            "HTTP requests by route template and status class, until the last body byte",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.produce_seconds = Histogram(
            "chirp_produce_duration_seconds",
            "Producing one event until the broker acknowledged it (acks=all)",
            ["topic"],
            buckets=PRODUCE_BUCKETS,
            registry=registry,
        )
        self.home_reads = Counter(
            "chirp_home_timeline_reads",
            "Home timeline reads: `hit` read a stored timeline, `rebuilt` rebuilt a missing one",
            ["result"],
            registry=registry,
        )
        # Gauges measured by whichever process looked last: in multiprocess mode the most recent
        # write wins, and a dead process's values are dropped.
        self.lag_events = Gauge(
            "chirp_projection_lag_events",
            "Events of its topics the serving version of a projection has not applied",
            ["projection"],
            multiprocess_mode="livemostrecent",
            registry=registry,
        )
        self.lag_seconds = Gauge(
            "chirp_projection_lag_seconds",
            "How long the oldest event a projection has not applied has been in the log "
            "(as first seen by this API, so at most a measurement interval short)",
            ["projection"],
            multiprocess_mode="livemostrecent",
            registry=registry,
        )
        self.applied_events = Gauge(
            "chirp_projection_applied_events",
            "Events a projection's serving version has applied (the sum of its positions)",
            ["projection"],
            multiprocess_mode="livemostrecent",
            registry=registry,
        )
        self.stream_connections = Gauge(
            "chirp_stream_connections",
            "Open server-sent-event streams",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.lag_clock = LagClock()

    def observe_lag(self, measured: ServingLag, topics_read: Mapping[str, Collection[str]]) -> None:
        """Record one measurement of every serving projection against the log's end."""
        now = time.time()
        self.lag_clock.observe(measured.log_end, now)
        for name, positions in measured.applied.items():
            fields = [f for f in measured.log_end if f.rpartition(":")[0] in topics_read[name]]
            self.lag_events.labels(name).set(measured.lags.get(name, 0))
            self.applied_events.labels(name).set(sum(offset + 1 for offset in positions.values()))
            self.lag_seconds.labels(name).set(self.lag_clock.seconds_behind(positions, fields, now))

    def observe_produce(self, topic: str, seconds: float) -> None:
        self.produce_seconds.labels(topic).observe(seconds)

    def observe_home_read(self, rebuilt: bool) -> None:
        self.home_reads.labels("rebuilt" if rebuilt else "hit").inc()

    def exposition(self) -> bytes:
        """Every process's samples (multiprocess mode) or this registry's, in text format."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(merged, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        return generate_latest(merged)

    def process_exited(self) -> None:
        """Drop this process's live gauges from the merged view (at shutdown)."""
        if self.multiprocess_dir is not None:
            prometheus_multiprocess.mark_process_dead(os.getpid(), str(self.multiprocess_dir))  # type: ignore[no-untyped-call]


METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST


@dataclass
class LagClock:
    """When each offset of the log was first seen, so that a projection's lag in events becomes
    a lag in seconds: the time since the first event it has not applied was first seen."""

    seen: dict[str, deque[tuple[int, float]]] = field(default_factory=dict)  # field: (end, at)

    def observe(self, log_end: Mapping[str, int], now: float) -> None:
        for partition, end in log_end.items():
            history = self.seen.setdefault(partition, deque(maxlen=LAG_HISTORY_ENTRIES))
            if not history or history[-1][0] != end:
                history.append((end, now))
            while len(history) > 1 and history[0][1] < now - LAG_HISTORY_S:
                history.popleft()

    def seconds_behind(self, positions: Positions, fields: list[str], now: float) -> float:
        """The oldest unapplied event's age over `fields`; 0 when every one is applied."""
        behind = 0.0
        for partition in fields:
            history = self.seen.get(partition)
            if not history:
                continue
            next_needed = positions.get(partition, -1) + 1
            ends = [end for end, _ in history]
            # The first observation in which the log held the offset after the applied one.
            index = bisect.bisect_right(ends, next_needed)
            if index < len(history):
                behind = max(behind, now - history[index][1])
        return behind


class RequestMetrics:
    """ASGI middleware timing each request until its last body byte went out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics = getattr(scope["app"].state, "metrics", None) if scope["type"] == "http" else None
        if metrics is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED_ROUTE
            metrics.request_seconds.labels(scope["method"], template, f"{status // 100}xx").observe(
                time.perf_counter() - started
            )
