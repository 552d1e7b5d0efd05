"""How far each projection's serving version is behind the end of the log, whether that makes
the API not ready, and waiting (bounded) for one to reach it."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from aiokafka import TopicPartition

from api.services import ApiServices
from projections.node_positions import copy_keys, decode_copies, lowest, owner_of, queue_read
from projections.registry import PROJECTION_FAMILIES
from projections.writer import Positions, decode_positions, lag
from schemas.log import Position

log = logging.getLogger(__name__)

REMEASURE_EVERY_S = 1.0  # reads learn that a projection fell behind at most this late
MEASURE_TIMEOUT_S = 5.0  # a broker that does not answer leaves the last measurement in place


async def end_offsets(services: ApiServices, topics: Iterable[str]) -> dict[str, int]:
    """Next offset of every partition, by positions field ("topic:partition")."""
    # The partitions come from the producer, whose `partitions_for` loads a topic's metadata
    # when it lacks it: the group-less consumer's `topics()` leaves its own metadata empty.
    producer = services.publisher.producer
    partitions = [
        TopicPartition(topic, partition)
        for topic in sorted(topics)
        for partition in sorted(await producer.partitions_for(topic))
    ]
    offsets = await services.offsets.end_offsets(partitions)
    return {f"{tp.topic}:{tp.partition}": offset for tp, offset in offsets.items()}


@dataclass(frozen=True, slots=True)
class ServingLag:
    """Each serving projection's distance to the end of the log, measured once."""

    lags: dict[str, int]  # events of its topics the serving version has not applied
    missing: frozenset[str]  # serving versions with no positions while their topics hold events
    applied: Mapping[str, Positions] = field(default_factory=dict)  # as measured
    log_end: Mapping[str, int] = field(default_factory=dict)  # next offset by positions field

    @classmethod
    def of(
        cls,
        applied: Mapping[str, Positions],
        log_end: Mapping[str, int],
        topics_read: Mapping[str, Collection[str]],
    ) -> ServingLag:
        """From each projection's applied positions and the log's next offsets by field."""
        lags, missing = {}, set()
        for name, positions in applied.items():
            ends = {
                field: end
                for field, end in log_end.items()
                if field.rpartition(":")[0] in topics_read[name]
            }
            lags[name] = lag(positions, ends)
            if not positions and any(ends.values()):
                missing.add(name)
        return cls(lags, frozenset(missing), applied, log_end)

    def reasons(self, max_lag_events: int) -> dict[str, str]:
        """Why each projection that keeps the API from being ready does so."""
        reasons = {}
        for name, behind in sorted(self.lags.items()):
            if name in self.missing:
                reasons[name] = (
                    f"projection {name} is missing: its serving version has applied nothing "
                    f"of the {behind} events in its topics"
                )
            elif behind > max_lag_events:
                reasons[name] = (
                    f"projection {name} is {behind} events behind the log "
                    f"(more than {max_lag_events})"
                )
        return reasons


async def measure_serving_lag(services: ApiServices) -> ServingLag:
    """One look at the broker's end offsets and every serving version's positions."""
    read_models = services.read_models
    all_topics = {topic for topics in read_models.topics_read.values() for topic in topics}
    ends = await end_offsets(services, all_topics)
    spaces = await read_models.namespaces(*PROJECTION_FAMILIES)
    copies = await copy_keys(services.redis)  # a Cluster node that lost data pulls positions back
    async with services.redis.pipeline(transaction=False) as pipe:
        for keys in spaces.values():
            pipe.hgetall(keys.positions_key)
        queue_read(pipe, copies)
        hashes = await pipe.execute()
    on_nodes = decode_copies(hashes[len(spaces) :])
    applied = {
        name: lowest(owner_of(spaces[name]), decode_positions(raw), on_nodes)
        for name, raw in zip(spaces, hashes[: len(spaces)], strict=True)
    }
    return ServingLag.of(applied, ends, read_models.topics_read)


class LagWatch:
    """Which serving projections were missing or too far behind when last measured.

    Reads ask it whether theirs are (`behind`) with no I/O: the first read after
    `REMEASURE_EVERY_S` starts a new measurement in the background and is answered from the
    last one, and `/readyz` measures at once and records it. So a read pays no broker round
    trip, and an idle process asks the broker nothing.
    """

    def __init__(
        self,
        services: ApiServices,
        max_lag_events: int,
        on_measured: Callable[[ServingLag], None] | None = None,
    ) -> None:
        self.services = services
        self.max_lag_events = max_lag_events
        self.on_measured = on_measured  # e.g. the metrics, told of every measurement
        self.not_ready: frozenset[str] = frozenset()
        # Of those, the ones missing with few enough events in their topics: a read that saw
        # one apply a position proves it present before the next measurement does.
        self._only_missing: frozenset[str] = frozenset()
        self._measured_at = -math.inf
        self._measuring: asyncio.Task[ServingLag | None] | None = None

    def behind(self, projections: Iterable[str]) -> bool:
        """Whether any of these projections was missing or too far behind, as last measured."""
        if self._measuring is None and time.monotonic() - self._measured_at >= REMEASURE_EVERY_S:
            self._measured_at = time.monotonic()  # a failed measurement is retried as late
            self._measuring = asyncio.create_task(self._measure_in_background())
        return not self.not_ready.isdisjoint(projections)

    def saw_applied(self, projections: Iterable[str]) -> None:
        """A read waited for positions of these projections and found them applied."""
        present = self._only_missing.intersection(projections)
        if present:
            self.not_ready -= present
            self._only_missing -= present

    async def measure(self) -> ServingLag:
        """Measure now (bounded by `MEASURE_TIMEOUT_S`) and remember which are not ready."""
        measured = await asyncio.wait_for(measure_serving_lag(self.services), MEASURE_TIMEOUT_S)
        self.record(measured)
        self._measured_at = time.monotonic()
        if self.on_measured is not None:
            self.on_measured(measured)
        return measured

    def record(self, measured: ServingLag) -> None:
        """Remember which projections a measurement found not ready."""
        self.not_ready = frozenset(measured.reasons(self.max_lag_events))
        self._only_missing = frozenset(
            name for name in measured.missing if measured.lags[name] <= self.max_lag_events
        )

    async def _measure_in_background(self) -> ServingLag | None:
        try:
            return await self.measure()
        except Exception as error:  # noqa: BLE001 - reads go on with the last measurement
            log.warning("could not measure how far the projections are behind: %s", error)
            return None
        finally:
            self._measuring = None

    async def close(self) -> None:
        """Cancel a measurement still running (at shutdown)."""
        if self._measuring is not None:
            self._measuring.cancel()
            await asyncio.gather(self._measuring, return_exceptions=True)


async def caught_up_with_log(services: ApiServices, projection: str, timeout_s: float) -> bool:
    """Wait until the projection has applied every record the log held when asked; False if
    `timeout_s` ran out first (asking the broker included)."""
    deadline = time.monotonic() + timeout_s
    try:
        ends = await asyncio.wait_for(
            end_offsets(services, services.read_models.topics_read[projection]), timeout_s
        )
    except TimeoutError:
        return False
    last_records = [
        Position(topic, int(partition), end - 1)
        for field, end in ends.items()
        if end > 0
        for topic, _, partition in [field.rpartition(":")]
    ]
    return await services.read_models.wait_until_applied(
        [projection], last_records, max(0.0, deadline - time.monotonic())
    )
