"""The worker's Prometheus metrics, in a registry of its own served on the worker's port.

One object per worker process, made by whoever starts the worker and handed to the agents:
events applied per projection, batches and how long they took, fan-out deliveries to home
timelines and records sent to the dead-letter topic. Recording is in memory only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, Metric
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self._deliveries: DeliveriesCollector | None = None
        self.events_applied = Counter(
            "chirp_worker_events_applied",
            "Events applied to a projection's serving (and caught-up building) versions",
            ["projection"],
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "chirp_worker_batch_duration_seconds",
            "Applying one batch of a topic family's events to its projections (Redis included)",
            ["family"],
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.dead_letters = Counter(
            "chirp_dead_letters",
            "Records that could not be decoded, sent to the dead-letter topic",
            ["topic"],
            registry=registry,
        )

    def count_deliveries_of(self, projections: Sequence[object]) -> None:
        """Expose the fan-out deliveries the projections with a `deliveries` count made."""
        pushers = [p for p in projections if hasattr(p, "deliveries")]
        if self._deliveries is None and pushers:
            self._deliveries = DeliveriesCollector(pushers)
            self.registry.register(self._deliveries)


class DeliveriesCollector(Collector):
    """`chirp_fanout_deliveries_total`, read at scrape time from the projections that push."""

    def __init__(self, pushers: Sequence[object]) -> None:
        self.pushers = pushers

    def collect(self) -> Iterable[Metric]:
        total = sum(getattr(pusher, "deliveries", 0) for pusher in self.pushers)
        family = CounterMetricFamily(
            "chirp_fanout_deliveries",
            "Entries pushed to home timelines (a tweet or retweet times its recipients)",
        )
        family.add_metric([], total)
        yield family
