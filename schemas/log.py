"""The log's layout: its topic families and the coordinates of a record in it.

Owns the family names (a family's topic name comes from the settings, e.g. `chirp.tweets`),
`Position` (topic, partition, offset) and `LoggedEvent` (a position with the event decoded
there). Everything above `schemas` that reads, writes or waits for the log speaks in these.
Must never talk to Kafka: it only names things.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import Event

# The event topics, one per aggregate family (DESIGN §3), plus the dead-letter topic.
TOPIC_FAMILIES = ("users", "tweets", "follows", "likes", "media", "collections")
DEAD_LETTER_FAMILY = "deadletter"
# The follow events again, keyed by followee: co-partitioned with the tweets for fan-out.
FOLLOWS_BY_FOLLOWEE_FAMILY = "follows.by-followee"


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """Where a record sits in the log."""

    topic: str
    partition: int
    offset: int

    @property
    def field(self) -> str:
        """`topic:partition`: the partition as one string, the field a positions hash uses."""
        return f"{self.topic}:{self.partition}"


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """A record read from the log; `event` is None when it could not be decoded."""

    position: Position
    event: Event | None
