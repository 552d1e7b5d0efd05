"""Node ids for the id generator, held as leases in Redis, so no two live processes share one.

A process claims a free node id (0..1023) with `SET chirp:id-node:lease:<n> <token> NX PX <ttl>`,
renews it every third of the TTL while it lives and deletes it on a clean exit; only the
holder's token renews or releases it (one-key scripts), so this runs on a Redis Cluster as on
one Redis. Claims start probing at a shared counter, so processes starting together try
different ids first.

The process issues ids only while its lease is valid by its own clock: validity counts from
before the command that set or renewed the lease was sent, less a margin, so the process stops
issuing before Redis can give the node id to anyone else (even when Redis is unreachable). A
renewal that finds the lease gone (it expired, or Redis lost its data) stops issuing at once;
the renewal loop then claims a node id afresh (the same one if it is still free) and issuing
resumes. Meanwhile `next_id` raises `NodeLeaseLost`, which the API answers with 503.
Must never issue an id without a lease it believes valid.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from domain.ids import MAX_NODE_ID, IdGenerator
from projections.redis_client import RedisClient

log = logging.getLogger(__name__)

LEASE_TTL_S = 30.0
LEASE_KEY_PREFIX = "chirp:id-node"
NODE_IDS = MAX_NODE_ID + 1
VALIDITY_MARGIN = 0.1  # of the TTL: room for clocks that run at slightly different rates

# Both touch one key, so they run unchanged on a Redis Cluster.
RENEW_IF_HELD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
DELETE_IF_HELD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

Clock = Callable[[], float]


class NoFreeNodeId(RuntimeError):
    """Every node id is leased by a live process."""


class NodeLeaseLost(RuntimeError):
    """This process holds no valid node-id lease right now, so it issues no ids."""


@dataclass(frozen=True, slots=True)
class Lease:
    node_id: int
    token: str
    valid_until: float  # on the leases' monotonic clock


class NodeLeases:
    """Claims, renews and releases node-id leases in one Redis or Redis Cluster."""

    def __init__(
        self,
        redis: RedisClient,
        *,
        ttl_s: float = LEASE_TTL_S,
        key_prefix: str = LEASE_KEY_PREFIX,
        clock: Clock = time.monotonic,
    ) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self.key_prefix = key_prefix
        self.clock = clock

    def lease_key(self, node_id: int) -> str:
        return f"{self.key_prefix}:lease:{node_id}"

    @property
    def probe_key(self) -> str:
        return f"{self.key_prefix}:probe"

    @property
    def ttl_ms(self) -> int:
        return int(self.ttl_s * 1000)

    def _valid_until(self, sent_at: float) -> float:
        return sent_at + self.ttl_s * (1 - VALIDITY_MARGIN)

    async def claim(self) -> Lease:
        """A lease on a node id no live process holds; `NoFreeNodeId` if all 1,024 are held."""
        token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        start = int(await self.redis.incr(self.probe_key))
        for step in range(NODE_IDS):
            node_id = (start + step) % NODE_IDS
            sent_at = self.clock()
            if await self.redis.set(self.lease_key(node_id), token, nx=True, px=self.ttl_ms):
                return Lease(node_id, token, self._valid_until(sent_at))
        raise NoFreeNodeId(f"all {NODE_IDS} node ids are leased by live processes")

    async def renew(self, lease: Lease) -> Lease | None:
        """The lease extended by a TTL, or None if it is no longer ours."""
        sent_at = self.clock()
        renewed = await self.redis.eval(
            RENEW_IF_HELD, 1, self.lease_key(lease.node_id), lease.token, self.ttl_ms
        )
        if not renewed:
            return None
        return Lease(lease.node_id, lease.token, self._valid_until(sent_at))

    async def release(self, lease: Lease) -> None:
        """Free the node id at once, if the lease is still ours."""
        await self.redis.eval(DELETE_IF_HELD, 1, self.lease_key(lease.node_id), lease.token)


class LeasedIds:
    """Issues ids with a leased node id, only while the lease is valid (see the module doc)."""

    def __init__(self, leases: NodeLeases, lease: Lease) -> None:
        self._leases = leases
        self._lease: Lease | None = lease
        self._generator = IdGenerator(lease.node_id)

    @property
    def node_id(self) -> int | None:
        """The node id this process issues ids with now; None while it holds no lease."""
        lease = self._lease
        return lease.node_id if lease is not None and self._is_valid(lease) else None

    def _is_valid(self, lease: Lease) -> bool:
        return self._leases.clock() < lease.valid_until

    def next_id(self) -> int:
        lease = self._lease
        if lease is None or not self._is_valid(lease):
            raise NodeLeaseLost("this process holds no node-id lease; it issues no ids")
        return self._generator.next_id()

    async def refresh(self) -> None:
        """Renew the lease, or claim one afresh if it was lost; one round of `keep_renewed`."""
        if self._lease is not None:
            renewed = await self._leases.renew(self._lease)
            if renewed is not None:
                self._lease = renewed
                return
            log.error("lost the lease on id node %d; issuing no ids", self._lease.node_id)
            self._lease = None
        lease = await self._leases.claim()
        if lease.node_id != self._generator.node_id:
            self._generator = IdGenerator(lease.node_id)
        self._lease = lease
        log.warning("claimed id node %d; issuing ids again", lease.node_id)

    async def keep_renewed(self) -> None:
        """Refresh every third of the TTL until cancelled; failures are retried next round."""
        while True:
            await asyncio.sleep(self._leases.ttl_s / 3)
            try:
                await self.refresh()
            except Exception:  # Redis unreachable, no free node id, ...: the next round retries
                log.exception("could not renew the id node lease")

    async def release(self) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            await self._leases.release(lease)


@asynccontextmanager
async def leased_ids(leases: NodeLeases) -> AsyncIterator[LeasedIds]:
    """Ids under a node-id lease renewed in the background, released when the block ends."""
    lease = await leases.claim()
    log.info("holding id node %d", lease.node_id)
    ids = LeasedIds(leases, lease)
    renewing = asyncio.create_task(ids.keep_renewed(), name="renew-id-node-lease")
    try:
        yield ids
    finally:
        renewing.cancel()
        with suppress(asyncio.CancelledError):
            await renewing
        await ids.release()
