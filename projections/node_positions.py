"""A copy of the projections' positions on every Redis Cluster primary, so a node that lost
data is noticed.

The positions hashes live in one slot (with the pointers), on one node. If another node
restarts from an older append-only file, or is wiped, the changes it lost are below positions
that survived elsewhere, and nothing would ever apply them again. So after each commit the
writer raises a copy of the positions it moved on every primary (`{nodeN}`-tagged keys, one
per node), written after that node received the batch's changes: a node's copy never claims
more than the node holds. The positions a projection version has applied are then the lowest
of its positions hash and every node's copy; a node that went back in time pulls them back,
and the worker reads the log again from there (every change is idempotent).

On a single Redis there is one node and the positions hash is already on it: no copies.
A resharded slot moves its copy with it; a node that then serves no copy's slot is not
watched until the writer next works out the copies' keys (at every start).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from projections.base import KEY_PREFIX, Namespace, as_text
from projections.lua import LuaScript, ScriptArg

Positions = dict[str, int]

_RAISE = LuaScript("projections.scripts", "node_positions_raise.lua")
MAX_TAG_SEARCH = 100_000


def owner_of(keys: Namespace) -> str:
    """Whose positions a copy holds: one projection version (`home_timelines:v2`)."""
    return f"{keys.projection}:v{keys.version}"


def copy_field(owner: str, field: str) -> str:
    """The field of one owner's position in one partition, in a node's copy."""
    return f"{owner}|{field}"


async def copy_keys(redis: Any) -> list[str]:
    """One key per primary of a Redis Cluster, each in a slot that primary serves; none on a
    single Redis. Worked out once per set of primaries (writers ask for every batch)."""
    if not isinstance(redis, RedisCluster):
        return []
    await redis.initialize()  # a new client knows no slots until it first asks (idempotent)
    primaries = frozenset(node.name for node in redis.get_primaries())
    if primaries not in _KEYS_OF_PRIMARIES:
        _KEYS_OF_PRIMARIES[primaries] = _search_keys(redis, primaries)
    return _KEYS_OF_PRIMARIES[primaries]


_KEYS_OF_PRIMARIES: dict[frozenset[str], list[str]] = {}


def _search_keys(redis: RedisCluster, primaries: frozenset[str]) -> list[str]:
    keys: dict[str, str] = {}
    for n in range(MAX_TAG_SEARCH):
        key = f"{KEY_PREFIX}:node-positions:{{node{n}}}"
        node = redis.nodes_manager.get_node_from_slot(key_slot(key.encode()))
        if node.name in primaries and node.name not in keys:
            keys[node.name] = key
            if len(keys) == len(primaries):
                break
    return sorted(keys.values())


def queue_raise(
    pipe: Any, copies: Sequence[str], moved: Iterable[tuple[str, Mapping[str, int]]]
) -> bool:
    """Queue raising every node's copy to the positions `moved` (by owner); False if there is
    nothing. Queued after a pipeline's changes, each node's copy follows that node's changes."""
    args: list[ScriptArg] = []
    for owner, positions in moved:
        for field, offset in positions.items():
            args += [copy_field(owner, field), offset]
    if not args or not copies:
        return False
    for key in copies:
        _RAISE.queue(pipe, [key], args)
    return True


def queue_read(pipe: Any, copies: Sequence[str]) -> None:
    for key in copies:
        pipe.hgetall(key)


def decode_copies(rows: Iterable[Mapping[Any, Any]]) -> list[Positions]:
    return [{as_text(field): int(offset) for field, offset in row.items()} for row in rows]


def lowest(owner: str, positions: Positions, copies: Sequence[Positions]) -> Positions:
    """What an owner has applied for certain: for each partition, the lowest of its positions
    and every node's copy (a copy without the partition says nothing was)."""
    if not copies:
        return positions
    return {
        field: min(offset, *(copy.get(copy_field(owner, field), -1) for copy in copies))
        for field, offset in positions.items()
    }
