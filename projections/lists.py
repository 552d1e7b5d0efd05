"""Lists: accounts a user groups under a name, private to that user.

Keys (under `chirp:lists:v{n}:`):
- `list:{list}` -> hash (id, owner_id, name, created_at_ms), hash-tagged by the list id.
- `members:{list}` -> sorted set of member ids (score 0, fixed width: id order), same slot.
- `owned:{owner}` -> sorted set of the owner's list ids (score 0, fixed width: newest last),
  hash-tagged by the owner.

A deleted list's keys are removed. Renames and member additions are scripts that change a
list only while it exists, so an event that reaches the projection after the list's deletion
(two requests racing) recreates nothing. Every change can be applied twice. Only this module
reads or writes these keys; a list's timeline is read from the user timelines through that
projection's own functions (`api.routes.lists`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from domain.events import (
    Event,
    ListCreated,
    ListDeleted,
    ListMemberAdded,
    ListMemberRemoved,
    ListRenamed,
)
from domain.ids import sortable_id
from projections.base import Namespace
from projections.entries import before_bound
from projections.lua import LuaScript

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

    from projections.redis_client import RedisClient

# KEYS: list (the list's slot)  ARGV: name
_RENAME = LuaScript("projections.scripts", "list_rename.lua")
# KEYS: list, members (the list's slot)  ARGV: member id
_ADD_MEMBER = LuaScript("projections.scripts", "list_add_member.lua")


@dataclass(frozen=True, slots=True)
class StoredList:
    list_id: int
    owner_id: int
    name: str
    created_at_ms: int
    member_count: int


def list_key(keys: Namespace, list_id: int) -> str:
    return keys.of("list", list_id)


def members_key(keys: Namespace, list_id: int) -> str:
    return keys.of("members", list_id)


def owned_key(keys: Namespace, owner_id: int) -> str:
    return keys.of("owned", owner_id)


class ListsProjection:
    name: ClassVar[str] = "lists"
    topic_families: ClassVar[tuple[str, ...]] = ("collections",)

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        match event:
            case ListCreated():
                tx.hset(
                    list_key(keys, event.list_id),
                    mapping={
                        "id": event.list_id,
                        "owner_id": event.owner_id,
                        "name": event.name,
                        "created_at_ms": event.created_at_ms,
                    },
                )
                tx.zadd(owned_key(keys, event.owner_id), {sortable_id(event.list_id): 0})
            case ListRenamed():
                _RENAME.queue(tx, [list_key(keys, event.list_id)], [event.name])
            case ListDeleted():
                tx.delete(list_key(keys, event.list_id), members_key(keys, event.list_id))
                tx.zrem(owned_key(keys, event.owner_id), sortable_id(event.list_id))
            case ListMemberAdded():
                _ADD_MEMBER.queue(
                    tx,
                    [list_key(keys, event.list_id), members_key(keys, event.list_id)],
                    [sortable_id(event.member_id)],
                )
            case ListMemberRemoved():
                tx.zrem(members_key(keys, event.list_id), sortable_id(event.member_id))


def _stored(raw: dict[Any, Any], member_count: int) -> StoredList | None:
    if not raw:
        return None
    row = {k.decode() if isinstance(k, bytes) else k: v for k, v in raw.items()}
    name = row["name"]
    return StoredList(
        list_id=int(row["id"]),
        owner_id=int(row["owner_id"]),
        name=name.decode() if isinstance(name, bytes) else name,
        created_at_ms=int(row["created_at_ms"]),
        member_count=member_count,
    )


async def stored_lists(
    redis: RedisClient, keys: Namespace, list_ids: list[int]
) -> dict[int, StoredList]:
    """The lists that exist among `list_ids`, with their member counts: one pipeline."""
    if not list_ids:
        return {}
    async with redis.pipeline(transaction=False) as pipe:
        for list_id in list_ids:
            pipe.hgetall(list_key(keys, list_id))
            pipe.zcard(members_key(keys, list_id))
        rows = await pipe.execute()
    found = (_stored(rows[i], int(rows[i + 1])) for i in range(0, len(rows), 2))
    return {stored.list_id: stored for stored in found if stored is not None}


async def stored_list(redis: RedisClient, keys: Namespace, list_id: int) -> StoredList | None:
    return (await stored_lists(redis, keys, [list_id])).get(list_id)


async def owned_page(
    redis: RedisClient, keys: Namespace, owner_id: int, *, count: int, before: int | None
) -> list[int]:
    """Up to `count` of the owner's list ids older than `before`, newest first."""
    members = await redis.zrevrangebylex(
        owned_key(keys, owner_id), before_bound(before), "-", 0, count
    )
    return [int(member) for member in members]


async def member_page(
    redis: RedisClient, keys: Namespace, list_id: int, *, count: int, after: int | None
) -> list[int]:
    """Up to `count` member ids after `after`, in id order."""
    lower = f"({sortable_id(after)}" if after is not None else "-"
    members = await redis.zrangebylex(members_key(keys, list_id), lower, "+", 0, count)
    return [int(member) for member in members]


async def first_members(redis: RedisClient, keys: Namespace, list_id: int, cap: int) -> list[int]:
    """At most `cap` member ids, in id order (what a list timeline merges)."""
    members: list[bytes] = await redis.zrange(members_key(keys, list_id), 0, cap - 1)  # type: ignore[assignment]
    return [int(member) for member in members]


async def is_member(redis: RedisClient, keys: Namespace, list_id: int, member_id: int) -> bool:
    score = await redis.zscore(members_key(keys, list_id), sortable_id(member_id))
    return score is not None
