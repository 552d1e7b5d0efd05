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


@dataclass(frozen=True, slots=True)
class PostTweet:
    author_id: int
    text: str
    reply_to: int | None = None
    quote_of: int | None = None
    media_ids: tuple[int, ...] = field(default_factory=tuple)
    location: GeoPoint | None = None
