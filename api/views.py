"""JSON shapes of the API's resources, built from projection rows (ids as strings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from projections.tweets import StoredTweet
from projections.users import UserProfile

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TweetCounts:
    like_count: int = 0
    retweet_count: int = 0
    reply_count: int = 0


def iso_time(unix_ms: int) -> str:
    return datetime.fromtimestamp(unix_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def author_view(profile: UserProfile | None, author_id: str) -> JsonObject:
    if profile is None:  # the author's registration has not been projected yet
        return {"id": author_id, "handle": None, "display_name": None}
    return {"id": author_id, "handle": profile.handle, "display_name": profile.display_name}


def tweet_view(
    tweet: StoredTweet,
    authors: dict[int, UserProfile],
    counts: TweetCounts | None = None,
    media: dict[int, JsonObject] | None = None,
) -> JsonObject:
    """A tweet as clients see it; attachments described when `media` has them."""
    author_id = tweet["author_id"]
    counts = counts or TweetCounts()
    return {
        "id": tweet["id"],
        "author": author_view(authors.get(int(author_id)), author_id),
        "text": tweet["text"],
        "created_at": iso_time(tweet["created_at_ms"]),
        "reply_to": tweet["reply_to"],
        "quote_of": tweet["quote_of"],
        "retweet_of": None,
        "media": [attachment_view(media_id, media or {}) for media_id in tweet["media_ids"]],
        "location": tweet["location"],
        "hashtags": tweet["hashtags"],
        "mentions": tweet["mentions"],
        "like_count": counts.like_count,
        "retweet_count": counts.retweet_count,
        "reply_count": counts.reply_count,
    }


def retweet_view(
    entry: StoredTweet, original: JsonObject, authors: dict[int, UserProfile]
) -> JsonObject:
    """A retweet entry: the retweeter and time of the retweet, the original's content."""
    retweeter = entry["author_id"]
    return {
        **original,
        "id": entry["id"],
        "author": author_view(authors.get(int(retweeter)), retweeter),
        "created_at": iso_time(entry["created_at_ms"]),
        "retweet_of": entry["retweet_of"],
        "retweeted_tweet": original,
    }


def user_summary(profile: UserProfile) -> JsonObject:
    return {
        "id": str(profile.user_id),
        "handle": profile.handle,
        "display_name": profile.display_name,
    }


def user_view(
    profile: UserProfile, *, tweet_count: int, followers_count: int, following_count: int
) -> JsonObject:
    return {
        **user_summary(profile),
        "created_at": iso_time(profile.registered_at_ms),
        "followers_count": followers_count,
        "following_count": following_count,
        "tweet_count": tweet_count,
    }


def media_url(media_id: int | str, variant: str | None = None) -> str:
    return f"/media/{media_id}" + (f"/{variant}" if variant else "")


def attachment_view(media_id: str, media: dict[int, JsonObject]) -> JsonObject:
    """An attached upload, described if its description was found."""
    described = media.get(int(media_id))
    return media_view(described) if described is not None else {"id": media_id}


def media_view(described: dict[str, Any]) -> dict[str, Any]:
    """An upload as clients see it: what it is and where each rendition is served."""
    media_id = str(described["media_id"])
    view: dict[str, Any] = {
        "id": media_id,
        "media_id": media_id,
        "url": media_url(media_id),
        "content_type": described["content_type"],
        "bytes": described["bytes"],
        "width": described["width"],
        "height": described["height"],
        "alt_text": described["alt_text"],
        "variants": {
            variant["name"]: {
                "url": media_url(media_id, variant["name"]),
                "content_type": variant["content_type"],
                "width": variant["width"],
                "height": variant["height"],
                "bytes": variant["bytes"],
            }
            for variant in described["variants"]
            if variant["name"] != "original"
        },
    }
    if described["duration_s"] is not None:
        view["duration_s"] = described["duration_s"]
    return view
