"""Which domain class each event schema maps to, and where their field names differ.

The edge between the domain and Avro: domain dataclasses never see Avro, so this table says how
to build one from the other. Adding an event type is one `.avsc` file in `schemas/avsc/` plus
one `EventMapping` below; the codec refuses to start if the two disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.commands import GeoPoint
from domain.events import (
    Event,
    RetweetUndone,
    TweetDeleted,
    TweetLiked,
    TweetPosted,
    TweetRetweeted,
    TweetUnliked,
    UserFollowed,
    UserRegistered,
    UserUnfollowed,
)
from schemas.registry import EVENT_NAMESPACE


@dataclass(frozen=True, slots=True)
class EventMapping:
    """A domain event class and the Avro record of the same name."""

    event_type: type[Event]
    field_names: Mapping[str, str] = field(default_factory=dict)
    """Domain attribute -> Avro field, only where they differ."""

    @property
    def event_name(self) -> str:
        return self.event_type.__name__


EVENT_MAPPINGS: tuple[EventMapping, ...] = (
    EventMapping(UserRegistered, {"registered_at_ms": "registered_at"}),
    EventMapping(TweetPosted, {"created_at_ms": "created_at"}),
    EventMapping(TweetDeleted, {"deleted_at_ms": "deleted_at", "created_at_ms": "created_at"}),
    EventMapping(TweetRetweeted, {"retweeted_at_ms": "retweeted_at"}),
    EventMapping(RetweetUndone, {"undone_at_ms": "undone_at"}),
    EventMapping(UserFollowed, {"followed_at_ms": "followed_at"}),
    EventMapping(UserUnfollowed, {"unfollowed_at_ms": "unfollowed_at"}),
    EventMapping(TweetLiked, {"liked_at_ms": "liked_at"}),
    EventMapping(TweetUnliked, {"unliked_at_ms": "unliked_at"}),
)

RECORD_TYPES: Mapping[str, type] = {
    f"{EVENT_NAMESPACE}.GeoPoint": GeoPoint,
}
"""Domain classes of records nested inside events, by Avro full name (same field names)."""
