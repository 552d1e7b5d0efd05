"""The celebrity sets brought back in line with the worker's follow-edge table after Redis lost
them (wiped, or restarted from an older append-only file).

The sets (every celebrity; the celebrities each user follows) are not versioned and not
replayed from the log: `after_follows` keeps them up to date as edges change, and moves the
mark of each table partition it reflects (`keys.CELEBRITY_MARKS_KEY`). A partition whose mark
is missing or behind the table is recomputed here from the table's edges: idempotent, and it
touches only the celebrities of that partition. Never called for a partition the worker has
not fully applied up to `reflected`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from projections.base import as_text
from projections.home_timelines.keys import (
    CELEBRITIES_KEY,
    CELEBRITY_MARKS_KEY,
    CELEBRITY_MARKS_OWNER,
    DEFAULT_SHARDS,
)
from projections.home_timelines.projection import drop_timelines, live_spaces
from projections.lua import pipeline_with_scripts
from projections.node_positions import copy_keys, decode_copies, lowest, queue_raise, queue_read

COMMANDS_PER_PIPELINE = 5_000  # Redis stays responsive to readers during a recomputation


async def celebrity_marks(redis: Any) -> dict[str, int]:
    """How far the celebrity sets reflect each partition of the follow-edge table (on Redis
    Cluster, as far as every node's copy of the marks says: a node that lost part of the sets
    pulls them back)."""
    copies = await copy_keys(redis)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hgetall(CELEBRITY_MARKS_KEY)
        queue_read(pipe, copies)
        raw, *on_nodes = await pipe.execute()
    marks = {as_text(field): int(offset) for field, offset in raw.items()}
    return lowest(CELEBRITY_MARKS_OWNER, marks, decode_copies(on_nodes))


async def restore_celebrities(
    redis: Any,
    *,
    field: str,
    reflected: int,
    celebrities: Iterable[tuple[int, Sequence[int]]],
    in_partition: Callable[[int], bool],
    followers_of: Callable[[int], Sequence[int]],
    shards: int = DEFAULT_SHARDS,
) -> int:
    """Make the sets say what the table partition `field` says up to offset `reflected`.

    `celebrities` are the partition's users above the threshold with all their followers;
    `in_partition` tells whether a user's edges live in this partition, `followers_of` who
    follows them now. Users listed as celebrities who no longer are leave the sets, and their
    followers' timelines are dropped (they lack what was merged, not pushed). Returns the
    number of celebrities in the partition.
    """
    spaces = await live_spaces(redis, shards)
    home = spaces[0]
    listed = {int(user) for user in await redis.smembers(CELEBRITIES_KEY)}
    pending: list[tuple[str, tuple[Any, ...]]] = []
    current = set()
    for celebrity, fans in celebrities:
        current.add(celebrity)
        pending.append(("sadd", (CELEBRITIES_KEY, celebrity)))
        pending += [("sadd", (home.celebs(fan), celebrity)) for fan in fans]
    for former in sorted(user for user in listed - current if in_partition(user)):
        pending.append(("srem", (CELEBRITIES_KEY, former)))
        for fan in followers_of(former):
            pending.append(("srem", (home.celebs(fan), former)))
            pending += [("drop", (space, fan)) for space in spaces]
    pending.append(("hset", (CELEBRITY_MARKS_KEY, field, reflected)))
    copies = await copy_keys(redis)
    for first in range(0, len(pending), COMMANDS_PER_PIPELINE):
        async with redis.pipeline(transaction=False) as pipe:
            for command, args in pending[first : first + COMMANDS_PER_PIPELINE]:
                if command == "drop":
                    space, fan = args
                    drop_timelines(space, [fan], pipe)
                else:
                    getattr(pipe, command)(*args)
            await pipe.execute()

    def raise_copies(pipe: Any) -> None:
        queue_raise(pipe, copies, [(CELEBRITY_MARKS_OWNER, {field: reflected})])

    await pipeline_with_scripts(redis, raise_copies)
    return len(current)
