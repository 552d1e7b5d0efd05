"""Commands: what a client asks Chirp to do (imperative names, frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class RegisterUser:
    handle: str
    password: str
    display_name: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateProfile:
    """Change what a user's profile shows; None leaves a field as it is."""

    user_id: int
    handle: str
    display_name: str | None = None
    bio: str | None = None
    avatar_media_id: int | None = None


@dataclass(frozen=True, slots=True)
class PostTweet:
    author_id: int
    text: str
    reply_to: int | None = None
    quote_of: int | None = None
    media_ids: tuple[int, ...] = field(default_factory=tuple)
    location: GeoPoint | None = None


@dataclass(frozen=True, slots=True)
class DeleteTweet:
    """Delete a tweet; carries the tweet as posted so read models can undo what it did."""

    tweet_id: int
    author_id: int
    requested_by: int
    created_at_ms: int
    reply_to: int | None = None
    hashtags: tuple[str, ...] = field(default_factory=tuple)
