"""JSON shapes of the API's resources, built from projection rows (ids as strings)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from projections.tweets import StoredTweet
from projections.users import UserProfile

JsonObject = dict[str, Any]


def iso_time(unix_ms: int) -> str:
    return datetime.fromtimestamp(unix_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def author_view(profile: UserProfile | None, author_id: str) -> JsonObject:
    if profile is None:  # the author's registration has not been projected yet
        return {"id": author_id, "handle": None, "display_name": None}
    return {"id": author_id, "handle": profile.handle, "display_name": profile.display_name}


def tweet_view(tweet: StoredTweet, authors: dict[int, UserProfile]) -> JsonObject:
    author_id = tweet["author_id"]
    return {
        "id": tweet["id"],
        "author": author_view(authors.get(int(author_id)), author_id),
        "text": tweet["text"],
        "created_at": iso_time(tweet["created_at_ms"]),
        "reply_to": tweet["reply_to"],
        "quote_of": tweet["quote_of"],
        "retweet_of": tweet["retweet_of"],
        "media": [{"id": media_id} for media_id in tweet["media_ids"]],
        "location": tweet["location"],
        "hashtags": tweet["hashtags"],
        "mentions": tweet["mentions"],
        "like_count": 0,
        "retweet_count": 0,
        "reply_count": 0,
    }


def user_view(profile: UserProfile, *, tweet_count: int) -> JsonObject:
    return {
        "id": str(profile.user_id),
        "handle": profile.handle,
        "display_name": profile.display_name,
        "created_at": iso_time(profile.registered_at_ms),
        "followers_count": 0,
        "following_count": 0,
        "tweet_count": tweet_count,
    }
