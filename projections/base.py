"""What every projection shares: versioned key namespaces, the apply contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from domain.events import Event

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

KEY_PREFIX = "chirp"


@dataclass(frozen=True, slots=True)
class Namespace:
    """The keys of one version of one projection.

    Keys that belong to one user or one tweet carry its id as a hash tag (`{123}`), so every
    key of an entity, across projections, lives in one Redis Cluster slot and a script can
    touch them together. Ids are unique across users and tweets (one id generator).
    """

    projection: str
    version: int

    def key(self, *parts: str | int) -> str:
        """An untagged key: for values that belong to no single entity."""
        return ":".join((KEY_PREFIX, self.projection, f"v{self.version}", *map(str, parts)))

    def of(self, kind: str, entity: int | str) -> str:
        """The `kind` key of one user or tweet, hash-tagged by its id (or handle)."""
        return f"{KEY_PREFIX}:{self.projection}:v{self.version}:{kind}:{{{entity}}}"

    def in_slot(self, tag: str, *parts: str | int) -> str:
        """A key in the slot named by `tag` (a shard, or the whole projection)."""
        return f"{KEY_PREFIX}:{self.projection}:v{self.version}:{{{tag}}}:" + ":".join(
            map(str, parts)
        )

    @property
    def positions_key(self) -> str:
        # In the bookkeeping slot with the pointers: the commit of a batch checks the
        # pointers and moves the positions in one script.
        return self.key("positions", BOOKKEEPING_TAG)

    @property
    def pattern(self) -> str:
        """A SCAN pattern matching every key of this version."""
        return self.key("*")


def as_text(value: bytes | str) -> str:
    """Redis replies are bytes unless a client decodes them; accept both."""
    return value.decode() if isinstance(value, bytes) else value


BOOKKEEPING_TAG = "{projections}"
POINTERS_KEY = f"{KEY_PREFIX}:pointers:{BOOKKEEPING_TAG}"
"""One hash for every projection: `{name}:serving` and `{name}:building` -> version."""


def serving_field(projection: str) -> str:
    return f"{projection}:serving"


def building_field(projection: str) -> str:
    return f"{projection}:building"


class Projection(Protocol):
    """A read model: the topic families it reads and how one event changes it.

    `apply` queues Redis commands on a transaction pipeline. It must be idempotent: the
    writer skips events at or below the stored position, but a command applied twice
    (say, after a crash between Redis and the Kafka commit) must leave the same state.

    A projection may also define `pushes(event, keys) -> list[ScriptCall]`: idempotent
    scripts the writer runs just before the transaction, outside it (the fan-out), so that a
    large push never holds Redis for the whole batch.
    """

    name: ClassVar[str]
    topic_families: ClassVar[tuple[str, ...]]

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None: ...
