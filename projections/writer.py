"""Applies batches of logged events to projections, exactly once in effect.

Each projection version keeps a positions hash ("topic:partition" -> last applied offset). A
batch's changes go out in non-transactional pipelines (on Redis Cluster, one request per
node each; a large fan-out is split so every request completes well within the client's
socket timeout), then one script commits the new positions (and, on Redis Cluster, raises
each node's copy of them: `projections.node_positions`). Every change is idempotent, so a crash
between the two only makes the next worker apply the batch again, with the same result; an
event at or below the stored position is skipped. This is what lets the changes of one batch
span hash slots: no transaction has to hold them together.

Rebuilds: while `chirp replay` fills version n+1 (the *building* version) from offset 0,
the live worker keeps writing version n (the *serving* one). For each partition, once the
building version has caught up with the serving one, the live worker writes both, so no
event falls between the replay's last write and the pointer flip. The commit script checks
that the pointers are still those the batch was planned against (pointers and positions share
one hash slot); if a flip happened meanwhile the batch is applied again to the new targets.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import NoScriptError

from domain.events import Event
from projections.base import (
    POINTERS_KEY,
    Namespace,
    Projection,
    as_text,
    building_field,
    serving_field,
)
from projections.lua import LuaScript, ScriptArg, ScriptCall, load_scripts
from projections.node_positions import (
    copy_keys,
    decode_copies,
    lowest,
    owner_of,
    queue_raise,
    queue_read,
)
from schemas.log import LoggedEvent

log = logging.getLogger(__name__)

Positions = dict[str, int]
Pointers = dict[str, int]

# Keys of fan-out scripts sent in one pipeline round trip. A whole batch of popular authors'
# tweets is millions of deliveries: sent at once, Redis stops reading the connection while it
# runs the first scripts, the write outlasts the client's socket timeout and the batch is
# retried from the start, for ever. Bounded, each request is a few tens of milliseconds of
# Redis time, and readers are served between requests.
PIPELINE_KEYS = 20_000

# KEYS: pointers, positions keys...  ARGV: pointer field count, (field, expected)...,
#       then per positions key: pair count, (field, offset)...
_COMMIT = LuaScript("projections.scripts", "commit_positions.lua")
# KEYS: pointers  ARGV: serving field, building field, new version
_FLIP = LuaScript("projections.scripts", "flip_pointer.lua")


def lag(applied: Positions, log_end: dict[str, int]) -> int:
    """How many events of the log (next offsets `log_end`) `applied` has not reached."""
    return sum(max(0, end - 1 - applied.get(field, -1)) for field, end in log_end.items())


def decode_positions(raw: Mapping[Any, Any]) -> Positions:
    """A positions hash as read from Redis (bytes or str fields) as {field: offset}."""
    return {as_text(field): int(offset) for field, offset in raw.items()}


async def read_pointers(redis: Any) -> Pointers:
    """Every projection's serving and building version, in one round trip."""
    return decode_positions(await redis.hgetall(POINTERS_KEY))


async def serving_version(redis: Any, projection: str) -> int:
    return (await read_pointers(redis)).get(serving_field(projection), 1)


async def flip_serving(redis: Any, projection: str, version: int) -> None:
    """Make a rebuilt version serve and end the rebuild, in one step."""
    await _FLIP.run(
        redis, [POINTERS_KEY], [serving_field(projection), building_field(projection), version]
    )


@dataclass(frozen=True, slots=True)
class Target:
    projection: Projection
    keys: Namespace
    positions: Positions
    # For a building version fed by the live worker: the serving positions it must have
    # reached, partition by partition, before it takes events (else there would be a gap).
    gate: Positions | None


class ProjectionWriter:
    """Writes one batch to a set of projections: changes in one pipeline, then positions."""

    def __init__(self, redis: Any, projections: Sequence[Projection]) -> None:
        self.redis = redis
        self.projections = tuple(projections)

    async def apply(self, batch: Sequence[LoggedEvent]) -> Positions:
        """Apply to the serving versions, and to building versions that have caught up.

        The positions stored in Redis say where each partition resumes, not the consumer's
        committed offsets: a partition whose first event in the batch lies beyond the next
        one a serving version needs (Redis lost data, or offsets were committed ahead of it)
        is held back, and returned as {field: offset to read again from}. The caller reads
        it again from there (the log's offsets are contiguous)."""
        return await self._apply(batch, include_serving=True)

    async def apply_to_building(self, batch: Sequence[LoggedEvent]) -> None:
        """Apply to the building versions only (what a replay does, reading from offset 0)."""
        await self._apply(batch, include_serving=False)

    async def _apply(
        self,
        batch: Sequence[LoggedEvent],
        *,
        include_serving: bool,
    ) -> Positions:
        if not batch:
            return {}
        while True:
            pointers = await read_pointers(self.redis)
            targets = await self._targets(pointers, include_serving=include_serving)
            gaps = missing_before(targets, batch) if include_serving else {}
            ready = [logged for logged in batch if logged.position.field not in gaps]
            pending = [(target, unapplied(target, ready)) for target in targets]
            try:
                await self._write(pending)
                if await self._commit(pointers, pending):
                    await self._raise_node_copies(pending)
                    return gaps
                log.info("projection pointers moved; applying the batch again")
            except NoScriptError:
                await load_scripts(self.redis)

    async def resume_points(self, fields: Iterable[str]) -> Positions:
        """For each `topic:partition` field, the next offset every serving version needs."""
        targets = await self._targets(await read_pointers(self.redis), include_serving=True)
        serving = [target for target in targets if target.gate is None]
        return {
            field: min((t.positions.get(field, -1) + 1 for t in serving), default=0)
            for field in fields
        }

    async def _write(self, pending: list[tuple[Target, tuple[list[Event], Positions]]]) -> None:
        """Every change of the batch in non-transactional pipelines, in order.

        Fan-out pushes (see `Projection.pushes`) come first, in pipelines of at most
        `PIPELINE_KEYS` keys, then each event's changes in log order. Redis serves other
        clients between the commands, so a fan-out to thousands of timelines never holds it
        for a whole batch.
        """
        calls: list[ScriptCall] = []
        for target, (events, _) in pending:
            pushes = getattr(target.projection, "pushes", None)
            if pushes is not None and events:
                calls.extend(pushes(events, target.keys))
        if not calls and not any(events for _, (events, _) in pending):
            return
        *full, last = bounded_groups(calls, PIPELINE_KEYS) or [[]]
        for group in full:
            async with self.redis.pipeline(transaction=False) as pipe:
                for script, keys, args in group:
                    script.queue(pipe, keys, args)
                await pipe.execute()
        async with self.redis.pipeline(transaction=False) as pipe:
            for script, keys, args in last:
                script.queue(pipe, keys, args)
            for target, (events, _) in pending:
                for event in events:
                    target.projection.apply(event, target.keys, pipe)
            await pipe.execute()

    async def _commit(
        self, pointers: Pointers, pending: list[tuple[Target, tuple[list[Event], Positions]]]
    ) -> bool:
        """Move the positions, unless the pointers changed since the batch was planned."""
        watched = [
            field
            for projection in self.projections
            for field in (serving_field(projection.name), building_field(projection.name))
        ]
        keys = [POINTERS_KEY]
        args: list[ScriptArg] = [len(watched)]
        for field in watched:
            args += [field, pointers.get(field, "")]
        for target, (_, advanced) in pending:
            keys.append(target.keys.positions_key)
            args.append(len(advanced))
            for field, offset in advanced.items():
                args += [field, offset]
        return bool(await _COMMIT.run(self.redis, keys, args))

    async def _raise_node_copies(
        self, pending: list[tuple[Target, tuple[list[Event], Positions]]]
    ) -> None:
        moved = [(owner_of(target.keys), advanced) for target, (_, advanced) in pending if advanced]
        copies = await copy_keys(self.redis)
        async with self.redis.pipeline(transaction=False) as pipe:
            if queue_raise(pipe, copies, moved):
                await pipe.execute()

    async def _targets(self, pointers: Pointers, *, include_serving: bool) -> list[Target]:
        planned: list[tuple[Projection, Namespace, bool]] = []
        for projection in self.projections:
            live = pointers.get(serving_field(projection.name), 1)
            building = pointers.get(building_field(projection.name))
            if include_serving:
                planned.append((projection, Namespace(projection.name, live), False))
            if building is not None:
                planned.append((projection, Namespace(projection.name, building), True))
        copies = await copy_keys(self.redis)
        async with self.redis.pipeline(transaction=False) as pipe:
            for _, keys, _ in planned:
                pipe.hgetall(keys.positions_key)
            queue_read(pipe, copies)
            rows = await pipe.execute()
        on_nodes = decode_copies(rows[len(planned) :])
        applied = {
            keys: lowest(owner_of(keys), decode_positions(row), on_nodes)
            for (_, keys, _), row in zip(planned, rows[: len(planned)], strict=True)
        }
        targets: list[Target] = []
        for projection, keys, is_building in planned:
            gate = None
            if is_building and include_serving:
                serving = Namespace(
                    projection.name, pointers.get(serving_field(projection.name), 1)
                )
                gate = applied[serving]
            targets.append(Target(projection, keys, applied[keys], gate))
        return targets


def bounded_groups(calls: Sequence[ScriptCall], max_keys: int) -> list[list[ScriptCall]]:
    """The calls in order, split into groups of at most `max_keys` keys (a call with more
    keys than that is a group of its own)."""
    groups: list[list[ScriptCall]] = []
    keys_in_group = 0
    for call in calls:
        keys = len(call[1])
        if not groups or keys_in_group + keys > max_keys:
            groups.append([])
            keys_in_group = 0
        groups[-1].append(call)
        keys_in_group += keys
    return groups


def missing_before(targets: Iterable[Target], batch: Iterable[LoggedEvent]) -> Positions:
    """Partitions the batch cannot apply in log order, with the offset to read again from
    (the lowest next offset a serving version needs).

    That is a partition whose events, read on from the next offset a serving version needs,
    skip one: its first event lies beyond that offset, or its events jump ahead in the middle
    of the batch (records fetched before and after a seek or a rebalance). Such a partition is
    held back whole, so nothing of it is applied past a hole."""
    offsets: dict[str, list[int]] = {}
    for logged in batch:
        offsets.setdefault(logged.position.field, []).append(logged.position.offset)
    gaps: Positions = {}
    for target in targets:
        if target.gate is not None:
            continue  # a building version fed by the live worker waits for its replay
        for field, seen in offsets.items():
            needed = target.positions.get(field, -1) + 1
            if skips_one(needed, seen):
                gaps[field] = min(gaps.get(field, needed), needed)
    return gaps


def skips_one(needed: int, offsets: Iterable[int]) -> bool:
    """Whether these offsets, in the order they came, leave out one at or after `needed`
    (offsets already applied, below what is needed, may come again in between)."""
    for offset in offsets:
        if offset > needed:
            return True
        needed = max(needed, offset + 1)
    return False


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
