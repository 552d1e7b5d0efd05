"""Applies batches of logged events to projections, exactly once in effect.

Each projection version keeps a positions hash ("topic:partition" -> last applied offset)
that is written in the same Redis transaction as the changes, so an event at or below the
stored position is skipped and a crash never applies half a batch.

Rebuilds: while `chirp replay` fills version n+1 (the *building* version) from offset 0,
the live worker keeps writing version n (the *serving* one). For each partition, once the
building version has caught up with the serving one, the live worker writes both, so no
event falls between the replay's last write and the pointer flip. The pointers and
positions are WATCHed, so a flip in the middle of a batch makes the batch retry against
the new pointers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from domain.events import Event
from projections.base import (
    Namespace,
    Projection,
    as_text,
    building_pointer_key,
    serving_pointer_key,
)
from schemas.log import LoggedEvent

log = logging.getLogger(__name__)

Positions = dict[str, int]


def lag(applied: Positions, log_end: dict[str, int]) -> int:
    """How many events of the log (next offsets `log_end`) `applied` has not reached."""
    return sum(max(0, end - 1 - applied.get(field, -1)) for field, end in log_end.items())


def decode_positions(raw: Mapping[Any, Any]) -> Positions:
    """A positions hash as read from Redis (bytes or str fields) as {field: offset}."""
    return {as_text(field): int(offset) for field, offset in raw.items()}


@dataclass(frozen=True, slots=True)
class Target:
    projection: Projection
    keys: Namespace
    positions: Positions
    # For a building version fed by the live worker: the serving positions it must have
    # reached, partition by partition, before it takes events (else there would be a gap).
    gate: Positions | None


async def serving_version(redis: Redis, projection: str) -> int:
    return int(await redis.get(serving_pointer_key(projection)) or 1)


class ProjectionWriter:
    """Writes one batch to a set of projections in one Redis transaction."""

    def __init__(self, redis: Redis, projections: Sequence[Projection]) -> None:
        self.redis = redis
        self.projections = tuple(projections)

    async def apply(self, batch: Sequence[LoggedEvent]) -> None:
        """Apply to the serving versions, and to building versions that have caught up."""
        await self._apply(batch, include_serving=True)

    async def apply_to_building(self, batch: Sequence[LoggedEvent]) -> None:
        """Apply to the building versions only (what a replay does)."""
        await self._apply(batch, include_serving=False)

    async def _apply(self, batch: Sequence[LoggedEvent], *, include_serving: bool) -> None:
        if not batch:
            return
        pointer_keys = [
            key
            for projection in self.projections
            for key in (serving_pointer_key(projection.name), building_pointer_key(projection.name))
        ]
        while True:
            async with self.redis.pipeline(transaction=True) as tx:
                try:
                    await tx.watch(*pointer_keys)
                    targets = await self._targets(tx, include_serving=include_serving)
                    pending = [(target, unapplied(target, batch)) for target in targets]
                    await self._push(pending)
                    tx.multi()  # type: ignore[no-untyped-call]
                    for target, (events, advanced) in pending:
                        _queue_changes(target, events, advanced, tx)
                    await tx.execute()
                    return
                except WatchError:
                    log.info("projection pointers or positions moved; retrying batch")

    async def _push(self, pending: list[tuple[Target, tuple[list[Event], Positions]]]) -> None:
        """Run the projections' pushes (see `Projection.pushes`) before their transaction.

        They go in one pipeline on another connection, outside MULTI: Redis serves other
        clients between the chunks, so a fan-out to thousands of timelines never holds it for
        a whole batch. They are idempotent, so a batch retried after a conflict or a crash
        pushes again harmlessly; the positions move only in the transaction after them.
        """
        calls = [
            call
            for target, (events, _) in pending
            if (pushes := getattr(target.projection, "pushes", None)) is not None
            for event in events
            for call in pushes(event, target.keys)
        ]
        if not calls:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for script, keys, args in calls:
                script.queue(pipe, keys, args)
            await pipe.execute()

    async def _targets(self, tx: Pipeline, *, include_serving: bool) -> list[Target]:
        targets: list[Target] = []
        for projection in self.projections:
            serving = int(await tx.get(serving_pointer_key(projection.name)) or 1)
            building_raw = await tx.get(building_pointer_key(projection.name))
            building_keys = Namespace(projection.name, int(building_raw)) if building_raw else None
            serving_positions: Positions = {}
            if include_serving:
                # A rebuild only reads and writes its own version: watching the serving
                # positions too would make every live batch abort its transaction.
                serving_keys = Namespace(projection.name, serving)
                await tx.watch(serving_keys.positions_key)
                serving_positions = decode_positions(await tx.hgetall(serving_keys.positions_key))
                targets.append(Target(projection, serving_keys, serving_positions, None))
            if building_keys is None:
                continue
            await tx.watch(building_keys.positions_key)
            building_positions = decode_positions(await tx.hgetall(building_keys.positions_key))
            gate = serving_positions if include_serving else None
            targets.append(Target(projection, building_keys, building_positions, gate))
        return targets


def unapplied(target: Target, batch: Iterable[LoggedEvent]) -> tuple[list[Event], Positions]:
    """The batch's events this target has not applied yet, and the positions it moves to."""
    advanced: Positions = {}
    events: list[Event] = []
    for logged in batch:
        field = logged.position.field
        applied = advanced.get(field, target.positions.get(field, -1))
        if target.gate is not None and applied < target.gate.get(field, -1):
            continue  # the replay has not caught up on this partition yet
        if logged.position.offset <= applied:
            continue
        if logged.event is not None:
            events.append(logged.event)
        advanced[field] = logged.position.offset
    return events, advanced


def _queue_changes(target: Target, events: list[Event], advanced: Positions, tx: Pipeline) -> None:
    """Queue the target's changes for the events, then its new positions, in the transaction."""
    for event in events:
        target.projection.apply(event, target.keys, tx)
    if advanced:
        tx.hset(target.keys.positions_key, mapping=advanced)  # type: ignore[arg-type]
