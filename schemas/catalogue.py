"""The event catalogue: every event type and where it goes on the log, in one table.

One `EventSpec` per domain event class says which schema it is written with (the `.avsc`
record of the same name in `schemas/avsc/`), which topic family it goes to, which id keys its
records (so one aggregate's events share a partition and stay in order), and where its
attribute names differ from the Avro field names. Adding an event type is its domain
dataclass, its `.avsc` file and one row below; the codec refuses to start if the rows and the
schema files disagree. Producers and consumers look events up here by type, never by name.
Domain classes never see Avro: this table is the edge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from domain.commands import GeoPoint
from domain.events import (
    AccountErased,
    BookmarkRemoved,
    Event,
    ListCreated,
    ListDeleted,
    ListMemberAdded,
    ListMemberRemoved,
    ListRenamed,
    MediaUploaded,
    MediaVariant,
    NotificationsRead,
    ProfileUpdated,
    RetweetUndone,
    TweetBookmarked,
    TweetDeleted,
    TweetLiked,
    TweetPosted,
    TweetRetweeted,
    TweetUnliked,
    UserFollowed,
    UserRegistered,
    UserUnfollowed,
)
from schemas.envelope import record_key
from schemas.errors import SchemaDefinitionError, UnknownEventType
from schemas.log import TOPIC_FAMILIES
from schemas.registry import EVENT_NAMESPACE

E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class EventSpec(Generic[E]):
    """One event type: its schema, its topic family and the id its records are keyed by."""

    event_class: type[E]
    family: str
    key_of: Callable[[E], int]
    """The aggregate id: the record key, as ASCII decimal (`schemas.envelope.record_key`)."""
    avro_names: Mapping[str, str] = field(default_factory=dict)
    """Domain attribute -> Avro field, only where they differ."""
    sealed: tuple[str, ...] = ()
    """Personal fields, written sealed under their owner's key (`schemas.sealing`); their
    attribute and Avro names are the same."""
    sealed_by: str = ""
    """The field naming the owner whose key seals `sealed`."""

    def __post_init__(self) -> None:
        if bool(self.sealed) != bool(self.sealed_by):
            raise SchemaDefinitionError(
                f"{self.schema_name}: personal fields and their owner go together"
            )
        if self.family not in TOPIC_FAMILIES:
            raise SchemaDefinitionError(
                f"{self.schema_name}: unknown topic family {self.family!r}, "
                f"expected one of {', '.join(TOPIC_FAMILIES)}"
            )

    @property
    def schema_name(self) -> str:
        """The Avro record's name (`chirp.events.<name>`, `<name>.avsc`), also the header value."""
        return self.event_class.__name__

    def record_key(self, event: E) -> bytes:
        return record_key(self.key_of(event))


CATALOGUE: tuple[EventSpec[Any], ...] = (
    EventSpec(
        UserRegistered,
        "users",
        key_of=lambda e: e.user_id,
        avro_names={"registered_at_ms": "registered_at"},
        sealed=("display_name", "email"),
        sealed_by="user_id",
    ),
    # Tweets are keyed by author (the retweeter for retweets), so an author's events stay in order.
    # Hashtags and mentions stay in the clear: trends and notifications undo them on erasure.
    EventSpec(
        TweetPosted,
        "tweets",
        key_of=lambda e: e.author_id,
        avro_names={"created_at_ms": "created_at"},
        sealed=("text", "media_ids", "location"),
        sealed_by="author_id",
    ),
    EventSpec(
        TweetDeleted,
        "tweets",
        key_of=lambda e: e.author_id,
        avro_names={"deleted_at_ms": "deleted_at", "created_at_ms": "created_at"},
    ),
    EventSpec(
        TweetRetweeted,
        "tweets",
        key_of=lambda e: e.user_id,
        avro_names={"retweeted_at_ms": "retweeted_at"},
    ),
    EventSpec(
        RetweetUndone,
        "tweets",
        key_of=lambda e: e.user_id,
        avro_names={"undone_at_ms": "undone_at"},
    ),
    # Follows are keyed by follower; `streams.follow_graph` re-keys them by followee.
    EventSpec(
        UserFollowed,
        "follows",
        key_of=lambda e: e.follower_id,
        avro_names={"followed_at_ms": "followed_at"},
    ),
    EventSpec(
        UserUnfollowed,
        "follows",
        key_of=lambda e: e.follower_id,
        avro_names={"unfollowed_at_ms": "unfollowed_at"},
    ),
    # Likes are keyed by tweet, so one tweet's likes and unlikes stay in order.
    EventSpec(
        TweetLiked,
        "likes",
        key_of=lambda e: e.tweet_id,
        avro_names={"liked_at_ms": "liked_at"},
    ),
    EventSpec(
        TweetUnliked,
        "likes",
        key_of=lambda e: e.tweet_id,
        avro_names={"unliked_at_ms": "unliked_at"},
    ),
    EventSpec(
        MediaUploaded,
        "media",
        key_of=lambda e: e.owner_id,
        avro_names={"uploaded_at_ms": "uploaded_at"},
        sealed=("alt_text",),
        sealed_by="owner_id",
    ),
    EventSpec(
        NotificationsRead,
        "users",
        key_of=lambda e: e.user_id,
        avro_names={"last_seen_at_ms": "last_seen_at", "read_at_ms": "read_at"},
    ),
    EventSpec(
        AccountErased,
        "users",
        key_of=lambda e: e.user_id,
        avro_names={"erased_at_ms": "erased_at"},
    ),
    EventSpec(
        ProfileUpdated,
        "users",
        key_of=lambda e: e.user_id,
        avro_names={"updated_at_ms": "updated_at"},
        sealed=("display_name", "bio", "avatar_media_id"),
        sealed_by="user_id",
    ),
    # Lists and bookmarks are keyed by their owner: one user's collections stay in order.
    EventSpec(
        ListCreated,
        "collections",
        key_of=lambda e: e.owner_id,
        avro_names={"created_at_ms": "created_at"},
    ),
    EventSpec(
        ListRenamed,
        "collections",
        key_of=lambda e: e.owner_id,
        avro_names={"renamed_at_ms": "renamed_at"},
    ),
    EventSpec(
        ListDeleted,
        "collections",
        key_of=lambda e: e.owner_id,
        avro_names={"deleted_at_ms": "deleted_at"},
    ),
    EventSpec(
        ListMemberAdded,
        "collections",
        key_of=lambda e: e.owner_id,
        avro_names={"added_at_ms": "added_at"},
    ),
    EventSpec(
        ListMemberRemoved,
        "collections",
        key_of=lambda e: e.owner_id,
        avro_names={"removed_at_ms": "removed_at"},
    ),
    EventSpec(
        TweetBookmarked,
        "collections",
        key_of=lambda e: e.user_id,
        avro_names={"bookmarked_at_ms": "bookmarked_at"},
    ),
    EventSpec(
        BookmarkRemoved,
        "collections",
        key_of=lambda e: e.user_id,
        avro_names={"removed_at_ms": "removed_at"},
    ),
)

NESTED_RECORDS: Mapping[str, type] = {
    f"{EVENT_NAMESPACE}.GeoPoint": GeoPoint,
    f"{EVENT_NAMESPACE}.MediaVariant": MediaVariant,
}
"""Domain classes of records nested inside events, by Avro full name (same field names)."""

_BY_CLASS: Mapping[type, EventSpec[Any]] = {spec.event_class: spec for spec in CATALOGUE}


def spec_of(event: Event) -> EventSpec[Any]:
    """The catalogue row of an event, by its exact type."""
    try:
        return _BY_CLASS[type(event)]
    except KeyError:
        raise UnknownEventType(
            f"{type(event).__qualname__} is not in the event catalogue"
        ) from None
