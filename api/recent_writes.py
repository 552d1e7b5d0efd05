"""Each user's latest write positions, so that user's next requests read their own writes.

Owns the keys `chirp:recent_writes:v1:user:{user_id}`: one sorted set per user, hash-tagged by
the user (one Redis Cluster slot), shared by every API process. A member is a partition
(`topic:partition`), its score the offset of the user's latest write there; `ZADD GT` keeps
the highest offset whatever order concurrent writes finish in. The set lives a few seconds
after the user's last write: long enough for the projections to apply it, short enough that a
user who stopped writing costs their reads one empty lookup.

Must never hold anything a read cannot do without: losing these keys only drops the wait.
"""

from __future__ import annotations

from typing import Any, cast

from projections.base import Namespace, as_text
from projections.redis_client import RedisClient
from schemas.log import Position

RECENT_WRITES = Namespace("recent_writes", 1)


def recent_writes_key(user_id: int) -> str:
    return RECENT_WRITES.of("user", user_id)


async def remember_write(
    redis: RedisClient, user_id: int, position: Position, *, ttl_ms: int
) -> None:
    """Record a user's write at `position` (one round trip, one key)."""
    key = recent_writes_key(user_id)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zadd(key, {position.field: position.offset}, gt=True)
        pipe.pexpire(key, ttl_ms)
        await pipe.execute()


def queue_recent_writes(pipe: Any, user_id: int) -> None:
    """Queues the lookup of a user's latest write positions, one per partition written lately;
    `positions_of` reads its answer."""
    pipe.zrange(recent_writes_key(user_id), 0, -1, withscores=True)


def positions_of(members: Any) -> list[Position]:
    positions = []
    for member, offset in cast("list[tuple[bytes | str, float]]", members):
        topic, _, partition = as_text(member).rpartition(":")
        positions.append(Position(topic, int(partition), int(offset)))
    return positions
