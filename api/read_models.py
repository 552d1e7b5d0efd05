"""The API's view of the projections: which version serves, and waiting for positions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence

from redis.asyncio import Redis

from projections.base import Namespace, serving_pointer_key
from schemas.log import Position

POLL_INTERVAL_S = 0.005


class ReadModels:
    """Resolves projection names to their serving namespaces and waits for positions."""

    def __init__(self, redis: Redis, topics_read: Mapping[str, frozenset[str]]) -> None:
        self.redis = redis
        self.topics_read = topics_read  # projection name -> topic names it consumes

    async def namespaces(self, *projections: str) -> dict[str, Namespace]:
        """The serving namespace of each projection, in one round trip."""
        versions = await self.redis.mget([serving_pointer_key(name) for name in projections])
        return {
            name: Namespace(name, int(version or 1))
            for name, version in zip(projections, versions, strict=True)
        }

    async def applied(self, projections: Sequence[str], positions: Sequence[Position]) -> bool:
        relevant = [
            (name, position)
            for name in projections
            for position in positions
            if position.topic in self.topics_read[name]
        ]
        if not relevant:
            return True
        namespaces = await self.namespaces(*{name for name, _ in relevant})
        async with self.redis.pipeline(transaction=False) as pipe:
            for name, position in relevant:
                pipe.hget(namespaces[name].positions_key, position.field)
            offsets = await pipe.execute()
        return all(
            offset is not None and int(offset) >= position.offset
            for (_, position), offset in zip(relevant, offsets, strict=True)
        )

    async def wait_until_applied(
        self, projections: Sequence[str], positions: Sequence[Position], timeout_s: float
    ) -> bool:
        """True once the projections have applied every position; False if time ran out."""
        deadline = time.monotonic() + timeout_s
        while not await self.applied(projections, positions):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(POLL_INTERVAL_S)
        return True
