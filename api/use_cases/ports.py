"""The ports the use cases are written against: what they read, claim, hold and publish.

Each port is the smallest `Protocol` one or more use cases need; `api.use_cases.adapters`
backs them with Redis read models and the Kafka publisher, and unit tests with plain
in-memory fakes. Must never import Redis, Kafka or a projection: the use cases see only these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from api.auth import Caller
from api.media_processing import ProcessedMedia
from domain.events import Event
from schemas.log import Position


@dataclass(frozen=True, slots=True)
class LiveTweet:
    """What a write needs to know of a live, original tweet (not deleted, not a retweet)."""

    tweet_id: int
    author_id: int
    created_at_ms: int
    reply_to: int | None = None
    hashtags: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Account:
    """A registered user as log-in sees it."""

    user_id: int
    handle: str
    display_name: str


class TweetLookup(Protocol):
    async def live_tweet(self, tweet_id: int) -> LiveTweet | None:
        """The tweet if it exists, is not deleted and is not a retweet entry."""

    async def retweet_by(self, tweet_id: int, user_id: int) -> int | None:
        """The id of the user's retweet entry of this tweet, if they retweeted it."""

    async def catch_up(self) -> None:
        """Wait (bounded) until the lookup has seen every tweet event the log held when
        asked, or until the wait runs out."""


class UserLookup(Protocol):
    async def user_id(self, handle: str) -> int | None:
        """The id of the user with this handle (any case), if one is registered."""

    async def user_id_for_email(self, email: str) -> int | None:
        """The id of the user registered with this email address (any case), if any."""

    async def account(self, user_id: int) -> Account | None: ...

    async def email_of(self, user_id: int) -> str | None:
        """The (private) email address the user registered with, if any."""

    async def password_hash(self, user_id: int) -> str | None: ...

    async def catch_up(self) -> None:
        """Wait (bounded) until the lookup has seen every registration the log held when
        asked, or until the wait runs out."""

    async def caught_up(self) -> bool:
        """`catch_up`, then whether the lookup did see every registration the log held."""


class FollowGraph(Protocol):
    async def is_following(self, follower_id: int, followee_id: int) -> bool: ...


class HandleClaims(Protocol):
    """Handles claimed before their registration is published, so two racing writers of one
    handle cannot both win, whichever API process they reach."""

    async def claim(self, handle_key: str, user_id: int) -> bool:
        """True if the caller now holds the claim; False if someone else already does."""

    async def release(self, handle_key: str) -> None: ...

    async def holder(self, handle_key: str) -> int | None:
        """The id of the user holding the claim, if someone does (registered or on the way)."""


class FollowHolds(Protocol):
    async def hold(self, follower_id: int, followee_id: int) -> None:
        """Taken before a follow or unfollow is published: the follower's home timeline is
        served but not stored until the worker has the new edge."""


class EventLog(Protocol):
    async def publish(self, event: Event, *, correlation_id: str | None) -> Position:
        """Append the event; its position once the log has acknowledged it."""


class RecentWrites(Protocol):
    async def remember(self, user_id: int, position: Position) -> None:
        """Note a user's write, so that user's next reads wait until it is applied (a few
        seconds' memory, shared by every API process)."""


class Ids(Protocol):
    def next_id(self) -> int: ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, stored_hash: str, password: str) -> bool: ...


class SessionTokens(Protocol):
    @property
    def ttl_s(self) -> int: ...

    def issue(self, caller: Caller) -> str: ...


class MediaStore(Protocol):
    """Where uploads' bytes live, by object key; objects are written once, never changed."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete_under(self, prefix: str) -> None:
        """Delete every object whose key starts with `prefix` (an erased account's uploads);
        deleting what is not there is no error."""


@dataclass(frozen=True, slots=True)
class Upload:
    """What attaching an upload to a tweet needs to know of it."""

    media_id: int
    owner_id: int
    content_type: str


class MediaLookup(Protocol):
    async def upload(self, media_id: int) -> Upload | None: ...

    async def catch_up(self) -> None:
        """Wait (bounded) until the lookup has seen every upload the log held when asked."""


class MediaInspector(Protocol):
    async def inspect(self, data: bytes) -> ProcessedMedia:
        """What the bytes are and the renditions to store; `UnsupportedMedia` or
        `InvalidMedia` (from `api.media_processing`) when they cannot be stored."""


Clock = Callable[[], int]  # wall-clock time in Unix milliseconds
