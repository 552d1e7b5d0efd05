"""Request and response models: validation of input and the OpenAPI documentation."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

IdText = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,19}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RegisterUserRequest(Strict):
    handle: str = Field(max_length=64, examples=["ada"])
    password: str = Field(max_length=1024)
    display_name: str | None = Field(default=None, max_length=256)


class SessionRequest(Strict):
    handle: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class SessionResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - a token kind, not a secret
    expires_in: int


class Location(Strict):
    lat: float
    lon: float


class PostTweetRequest(Strict):
    text: str = Field(max_length=4096)
    reply_to: IdText | None = None
    quote_of: IdText | None = None
    media_ids: list[IdText] = Field(default_factory=list, max_length=4)
    location: Location | None = None


class AuthorOut(BaseModel):
    id: str
    handle: str | None
    display_name: str | None


class MediaOut(BaseModel):
    id: str


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
