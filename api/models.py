"""Request and response models: validation of input and the OpenAPI documentation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.ids import MAX_ID
from domain.text import (
    HANDLE_PATTERN,
    MAX_DISPLAY_NAME_CHARS,
    MAX_PASSWORD_CHARS,
    MAX_TWEET_CHARS,
    MIN_PASSWORD_CHARS,
)


def decimal_at_most(limit: int) -> str:
    """A regular expression for the decimal numbers 0..`limit`, leading zeros allowed, with
    no more digits than `limit` has: what a schema can say of "a 64-bit id as text"."""
    digits = str(limit)
    shorter = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    # Equal to `limit` up to digit i, smaller at digit i, anything after it.
    smaller = [
        f"{digits[:i]}[0-{int(digit) - 1}]"
        + (f"[0-9]{{{len(digits) - i - 1}}}" if i + 1 < len(digits) else "")
        for i, digit in enumerate(digits)
        if digit != "0"
    ]
    return "^(?:" + "|".join([*shorter, *smaller, digits]) + ")$"


# Ids are decimal strings (JavaScript numbers cannot hold 64 bits); Avro longs are signed.
IdText = Annotated[str, StringConstraints(pattern=decimal_at_most(MAX_ID))]
Handle = Annotated[str, StringConstraints(pattern=f"^{HANDLE_PATTERN.pattern}$")]
# No control characters: the domain would strip them at the ends and refuse them inside.
DisplayName = Annotated[
    str, StringConstraints(max_length=MAX_DISPLAY_NAME_CHARS, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")
]
Password = Annotated[
    str, StringConstraints(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)
]
# At least one character that is not whitespace (the domain counts after NFC normalisation).
TweetText = Annotated[str, StringConstraints(max_length=MAX_TWEET_CHARS, pattern=r"\S")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RegisterUserRequest(Strict):
    handle: Handle = Field(examples=["ada"])
    password: Password
    display_name: DisplayName | None = None


class SessionRequest(Strict):
    handle: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class SessionResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - a token kind, not a secret
    expires_in: int


class Location(Strict):
    lat: float = Field(ge=-90.0, le=90.0, allow_inf_nan=False)
    lon: float = Field(ge=-180.0, le=180.0, allow_inf_nan=False)


class PostTweetRequest(Strict):
    text: TweetText
    reply_to: IdText | None = None
    quote_of: IdText | None = None
    media_ids: list[IdText] = Field(default_factory=list, max_length=4)
    location: Location | None = None


class AuthorOut(BaseModel):
    id: str
    handle: str | None
    display_name: str | None


class MediaVariantOut(BaseModel):
    url: str
    content_type: str
    width: int
    height: int
    bytes: int


class MediaOut(BaseModel):
    """An attachment; described in full once the media projection has it."""

    id: str
    media_id: str | None = None
    url: str | None = None
    content_type: str | None = None
    bytes: int | None = None
    width: int | None = None
    height: int | None = None
    alt_text: str | None = None
    duration_s: float | None = None
    variants: dict[str, MediaVariantOut] | None = None


class TweetOut(BaseModel):
    id: str
    author: AuthorOut
    text: str
    created_at: str
    reply_to: str | None
    quote_of: str | None
    retweet_of: str | None
    media: list[MediaOut]
    location: Location | None
    hashtags: list[str]
    mentions: list[str]
    like_count: int
    retweet_count: int
    reply_count: int
    tweet_url: str | None = None
    retweeted_tweet: TweetOut | None = None


class TweetPage(BaseModel):
    data: list[TweetOut]
    next_cursor: str | None


class UserSummary(BaseModel):
    id: str
    handle: str
    display_name: str


class UserPage(BaseModel):
    data: list[UserSummary]
    next_cursor: str | None


class ThreadOut(BaseModel):
    ancestors: list[TweetOut]
    tweet: TweetOut
    replies: list[TweetOut]
    next_cursor: str | None


class UserOut(BaseModel):
    id: str
    handle: str
    display_name: str
    created_at: str
    followers_count: int
    following_count: int
    tweet_count: int


class TrendOut(BaseModel):
    hashtag: str
    count: int
    score: float


class TrendsOut(BaseModel):
    window_seconds: int
    as_of: str | None
    data: list[TrendOut]


NotificationType = Literal["mention", "reply", "quote", "like", "retweet", "follow"]


class NotificationOut(BaseModel):
    """One notification group: `count` accounts did `type`, the newest first in `accounts`
    (up to three). `target` is the tweet it is about: yours for likes and retweets, the
    mentioning, replying or quoting tweet for those; null for follows."""

    type: NotificationType
    target: TweetOut | None
    count: int
    accounts: list[UserSummary]
    latest_at: str = Field(description="The newest activity in the group; `up_to` for marking read")


class NotificationPage(BaseModel):
    data: list[NotificationOut]
    next_cursor: str | None


class UnreadCountOut(BaseModel):
    count: int


class MarkReadRequest(Strict):
    up_to: str = Field(
        max_length=64,
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
        r"(Z|[+-][0-9]{2}:[0-9]{2})$",
        description="A notification's `latest_at` (ISO 8601 with a time zone): it and every "
        "older notification are read",
        examples=["2026-11-29T11:20:38.123+00:00"],
    )


class InvalidField(BaseModel):
    loc: list[str]
    msg: str


class ProblemOut(BaseModel):
    """An error answer (RFC 9457), served as `application/problem+json`."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    errors: list[InvalidField] = Field(
        default_factory=list, description="Each invalid part of a request (422 only)"
    )
