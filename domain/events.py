"""Events: facts that happened (past-tense names, frozen dataclasses).

Events are the source of truth; every read model is derived from them. Their wire form
(Avro) lives in `schemas/`; this module knows nothing of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import get_args

from domain.commands import GeoPoint


@dataclass(frozen=True, slots=True)
class UserRegistered:
    user_id: int
    handle: str
    display_name: str
    password_hash: str
    registered_at_ms: int
    # Private: how the account logs in besides its handle (Mastodon clients register with
    # one); no public view shows it. None in events written before version 2.
    email: str | None = None


@dataclass(frozen=True, slots=True)
class TweetPosted:
    tweet_id: int
    author_id: int
    text: str
    created_at_ms: int
    reply_to: int | None = None
    quote_of: int | None = None
    media_ids: tuple[int, ...] = field(default_factory=tuple)
    location: GeoPoint | None = None
    hashtags: tuple[str, ...] = field(default_factory=tuple)
    mentions: tuple[str, ...] = field(default_factory=tuple)
    # Whom the tweet addresses, resolved when it was posted (notifications read these):
    # the replied-to and quoted tweets' authors, and the registered users it mentions.
    reply_to_author_id: int | None = None
    quote_of_author_id: int | None = None
    mentioned_user_ids: tuple[int, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class TweetDeleted:
    """A tweet was deleted; it carries what read models need to undo it (replies, hashtags)."""

    tweet_id: int
    author_id: int
    deleted_at_ms: int
    created_at_ms: int
    reply_to: int | None = None
    hashtags: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class TweetRetweeted:
    """`user_id` retweeted `tweet_id`; the retweet is a timeline entry with its own id."""

    retweet_id: int
    tweet_id: int
    user_id: int
    retweeted_at_ms: int
    tweet_author_id: int | None = None  # whom it notifies; None in events written before


@dataclass(frozen=True, slots=True)
class RetweetUndone:
    tweet_id: int
    user_id: int
    undone_at_ms: int
    tweet_author_id: int | None = None


@dataclass(frozen=True, slots=True)
class UserFollowed:
    follower_id: int
    followee_id: int
    followed_at_ms: int


@dataclass(frozen=True, slots=True)
class UserUnfollowed:
    follower_id: int
    followee_id: int
    unfollowed_at_ms: int


@dataclass(frozen=True, slots=True)
class TweetLiked:
    tweet_id: int
    user_id: int
    liked_at_ms: int
    tweet_author_id: int | None = None  # whom it notifies; None in events written before


@dataclass(frozen=True, slots=True)
class TweetUnliked:
    tweet_id: int
    user_id: int
    unliked_at_ms: int
    tweet_author_id: int | None = None


@dataclass(frozen=True, slots=True)
class MediaVariant:
    """A stored rendition of an upload: `original`, `thumb`, `small` or `poster`."""

    name: str
    content_type: str
    width: int
    height: int
    bytes: int


@dataclass(frozen=True, slots=True)
class MediaUploaded:
    """An image or video was stored for its owner; the bytes live in the object store (stored
    before this event is produced), the event carries only what describes them."""

    media_id: int
    owner_id: int
    content_type: str
    bytes: int
    width: int
    height: int
    uploaded_at_ms: int
    variants: tuple[MediaVariant, ...]
    alt_text: str | None = None
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class NotificationsRead:
    """`user_id` has seen their notifications up to `last_seen_at_ms` (a notification's
    latest activity time); the read marker only moves forward."""

    user_id: int
    last_seen_at_ms: int
    read_at_ms: int


@dataclass(frozen=True, slots=True)
class ListCreated:
    """`owner_id` made a list of accounts (private to them) named `name`."""

    list_id: int
    owner_id: int
    name: str
    created_at_ms: int


@dataclass(frozen=True, slots=True)
class ListRenamed:
    list_id: int
    owner_id: int
    name: str
    renamed_at_ms: int


@dataclass(frozen=True, slots=True)
class ListDeleted:
    list_id: int
    owner_id: int
    deleted_at_ms: int


@dataclass(frozen=True, slots=True)
class ListMemberAdded:
    list_id: int
    owner_id: int
    member_id: int
    added_at_ms: int


@dataclass(frozen=True, slots=True)
class ListMemberRemoved:
    list_id: int
    owner_id: int
    member_id: int
    removed_at_ms: int


@dataclass(frozen=True, slots=True)
class TweetBookmarked:
    """`user_id` bookmarked a tweet (privately); `bookmark_id` orders their bookmarks."""

    bookmark_id: int
    user_id: int
    tweet_id: int
    tweet_author_id: int
    bookmarked_at_ms: int


@dataclass(frozen=True, slots=True)
class BookmarkRemoved:
    user_id: int
    tweet_id: int
    removed_at_ms: int


@dataclass(frozen=True, slots=True)
class ProfileUpdated:
    """`user_id` changed its profile: each field given replaces the one shown (None keeps it).
    Carries the handle so the user-search index can re-index a new display name."""

    user_id: int
    handle: str
    updated_at_ms: int
    display_name: str | None = None
    bio: str | None = None
    avatar_media_id: int | None = None


@dataclass(frozen=True, slots=True)
class AccountErased:
    """`user_id`'s account was erased at its own request. Produced after the take-backs of
    everything it did in other aggregates (tweets deleted, retweets undone, likes taken back,
    follows both ways undone); read models drop what they keep of the account itself. Carries
    counts of what was taken back, never personal data: it is also the erasure's lineage."""

    user_id: int
    erased_at_ms: int
    tweets_deleted: int = 0
    retweets_undone: int = 0
    likes_removed: int = 0
    follows_removed: int = 0
    media_removed: int = 0
    media_ids: tuple[int, ...] = field(default_factory=tuple)  # uploads whose bytes go


Event = (
    UserRegistered
    | TweetPosted
    | TweetDeleted
    | TweetRetweeted
    | RetweetUndone
    | UserFollowed
    | UserUnfollowed
    | TweetLiked
    | TweetUnliked
    | MediaUploaded
    | NotificationsRead
    | ListCreated
    | ListRenamed
    | ListDeleted
    | ListMemberAdded
    | ListMemberRemoved
    | TweetBookmarked
    | BookmarkRemoved
    | AccountErased
    | ProfileUpdated
)
EVENT_TYPES: tuple[type[Event], ...] = get_args(Event)
"""Every event class, in the order of the `Event` union."""
