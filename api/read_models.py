"""The API's view of the projections: which version serves, and waiting for positions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence

from projections.base import Namespace, serving_field
from projections.redis_client import RedisClient
from projections.writer import Pointers, read_pointers
from schemas.log import Position

POLL_INTERVAL_S = 0.005
POINTERS_TTL_S = 0.25  # a rebuild keeps the old version this long and more after its flip


class ReadModels:
    """Resolves projection names to their serving namespaces and waits for positions."""

    def __init__(self, redis: RedisClient, topics_read: Mapping[str, frozenset[str]]) -> None:
        self.redis = redis
        self.topics_read = topics_read  # projection name -> topic names it consumes
        self._pointers: Pointers = {}
        self._pointers_read_at = -POINTERS_TTL_S
        self._pointers_reading: asyncio.Future[None] | None = None

    async def namespaces(self, *projections: str) -> dict[str, Namespace]:
        """The serving namespace of each projection.

        The pointers are read at most every `POINTERS_TTL_S`, not per request: a rebuild
        keeps the old version serving for a grace period longer than that after its flip.
        Concurrent requests that find them old share one read.
        """
        if time.monotonic() - self._pointers_read_at >= POINTERS_TTL_S:
            await self._read_pointers()
        return {
            name: Namespace(name, self._pointers.get(serving_field(name), 1))
            for name in projections
        }

    async def _read_pointers(self) -> None:
        if self._pointers_reading is None:
            self._pointers_reading = asyncio.ensure_future(self._refresh_pointers())
        await asyncio.shield(self._pointers_reading)  # one waiter's cancellation stops none

    async def _refresh_pointers(self) -> None:
        started_at = time.monotonic()
        try:
            self._pointers = await read_pointers(self.redis)
            self._pointers_read_at = started_at
        finally:
            self._pointers_reading = None

    def concerned(
        self, projections: Sequence[str], positions: Sequence[Position]
    ) -> list[tuple[str, Position]]:
        """The (projection, position) pairs where the projection reads the position's topic."""
        return [
            (name, position)
            for name in projections
            for position in positions
            if position.topic in self.topics_read[name]
        ]

    async def applied(self, projections: Sequence[str], positions: Sequence[Position]) -> bool:
        relevant = self.concerned(projections, positions)
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
