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
    """The keys of one version of one projection."""

    projection: str
    version: int

    def key(self, *parts: str | int) -> str:
        return ":".join((KEY_PREFIX, self.projection, f"v{self.version}", *map(str, parts)))

    @property
    def positions_key(self) -> str:
        return self.key("positions")

    @property
    def pattern(self) -> str:
        """A SCAN pattern matching every key of this version."""
        return self.key("*")


def as_text(value: bytes | str) -> str:
    """Redis replies are bytes unless a client decodes them; accept both."""
    return value.decode() if isinstance(value, bytes) else value


def serving_pointer_key(projection: str) -> str:
    return f"{KEY_PREFIX}:pointer:{projection}:serving"


def building_pointer_key(projection: str) -> str:
    return f"{KEY_PREFIX}:pointer:{projection}:building"


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
