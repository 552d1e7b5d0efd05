"""Events: facts that happened (past-tense names, frozen dataclasses).

Events are the source of truth; every read model is derived from them. Their wire form
(Avro) lives in `schemas/`; this module knows nothing of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.commands import GeoPoint


@dataclass(frozen=True, slots=True)
class UserRegistered:
    user_id: int
    handle: str
    display_name: str
    password_hash: str
    registered_at_ms: int

    @property
    def aggregate_id(self) -> int:
        return self.user_id


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

    @property
    def aggregate_id(self) -> int:
        """Tweets are keyed by author, so one author's events stay in order."""
        return self.author_id


Event = UserRegistered | TweetPosted
EVENT_TYPES: tuple[type[Event], ...] = (UserRegistered, TweetPosted)
