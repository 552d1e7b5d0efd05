"""Mastodon's Status and MediaAttachment entities, built from `/v1` tweet views.

`status_entities(services, views, base_url=..., viewer_id=...)` is what a route calls with the
views a `/v1` read answered: it asks Redis, in one pipeline, what the views do not say (whether
the viewer liked, retweeted or bookmarked each tweet, the ids of mentioned accounts, whom each
reply answers) and renders every status. `status_entity(view, StatusFacts(...))` is the pure
rendering, for callers that know no viewer (a public stream). Reads only through the
projections' own read functions; writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from api.mastodon.content import profile_url, status_html, tag_url
from api.mastodon.entities import absolute, account_entity
from api.services import ApiServices
from api.views import JsonObject, media_url
from projections.bookmarks import queue_is_bookmarked
from projections.likes import queue_likes_it
from projections.tweets import queue_has_retweeted, queue_stored_tweet
from projections.users import queue_user_id_for_handle

STATUS_PROJECTIONS = ("likes", "tweets", "bookmarks", "users")


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """What rendering statuses needs beyond their views. Tweet ids are decimal strings."""

    base_url: str
    favourited: frozenset[str] = frozenset()
    reblogged: frozenset[str] = frozenset()
    bookmarked: frozenset[str] = frozenset()
    account_ids: Mapping[str, str] = field(default_factory=dict)  # lower-cased handle -> id
    reply_authors: Mapping[str, str] = field(default_factory=dict)  # tweet id -> its author


def original_of(view: JsonObject) -> JsonObject:
    """The tweet a view shows: itself, or the tweet a retweet entry retweets."""
    retweeted: JsonObject | None = view.get("retweeted_tweet")
    return retweeted if view.get("retweet_of") and retweeted is not None else view


def status_entity(view: JsonObject, facts: StatusFacts) -> JsonObject:
    """A Status from a `/v1` tweet view; a retweet entry becomes a reblog wrapping the
    original (the wrapper carries the viewer's state of the original, as it is one post)."""
    original = original_of(view)
    if original is not view:
        inner = _status(original, facts)
        wrapper = _status({**view, "text": "", "media": [], "hashtags": [], "mentions": []}, facts)
        counts = ("reblogs_count", "favourites_count", "replies_count")
        flags = ("favourited", "reblogged", "bookmarked")
        return (
            wrapper
            | dict.fromkeys(counts, 0)
            | {
                "reblog": inner,
                "in_reply_to_id": None,
                "in_reply_to_account_id": None,
                **{flag: inner[flag] for flag in flags},
            }
        )
    return _status(view, facts)


def _status(view: JsonObject, facts: StatusFacts) -> JsonObject:
    base = facts.base_url
    tweet_id = str(view["id"])
    author = account_entity(view["author"], base)
    account_urls = {
        handle.lower(): profile_url(base, handle)
        for handle in view.get("mentions", [])
        if handle.lower() in facts.account_ids
    }
    reply_to = view.get("reply_to")
    url = absolute(base, f"/tweets/{tweet_id}")
    return {
        "id": tweet_id,
        "uri": url,
        "url": url,
        "created_at": view["created_at"],
        "edited_at": None,
        "account": author,
        "content": status_html(view.get("text") or "", base, account_urls),
        "visibility": "public",
        "sensitive": False,
        "spoiler_text": "",
        "media_attachments": [media_attachment(m, base) for m in view.get("media", [])],
        "mentions": [
            {
                "id": facts.account_ids[handle.lower()],
                "username": handle,
                "acct": handle,
                "url": profile_url(base, handle),
            }
            for handle in view.get("mentions", [])
            if handle.lower() in facts.account_ids
        ],
        "tags": [{"name": tag, "url": tag_url(base, tag)} for tag in view.get("hashtags", [])],
        "emojis": [],
        "reblogs_count": view.get("retweet_count", 0),
        "favourites_count": view.get("like_count", 0),
        "replies_count": view.get("reply_count", 0),
        "in_reply_to_id": str(reply_to) if reply_to is not None else None,
        "in_reply_to_account_id": facts.reply_authors.get(str(reply_to)) if reply_to else None,
        "reblog": None,
        "poll": None,
        "card": None,
        "language": None,
        "application": None,
        "favourited": tweet_id in facts.favourited,
        "reblogged": tweet_id in facts.reblogged,
        "bookmarked": tweet_id in facts.bookmarked,
        "muted": False,
        "pinned": False,
        "filtered": [],
    }


def media_attachment(view: JsonObject, base_url: str) -> JsonObject:
    """A MediaAttachment from a `/v1` media view (`media_view`; an attachment whose
    description was not found has only an id, and is served at its usual place)."""
    media_id = str(view["id"])
    content_type = str(view.get("content_type") or "")
    kind = content_type.partition("/")[0]
    url = absolute(base_url, view.get("url") or media_url(media_id))
    variants: dict[str, Any] = view.get("variants") or {}
    preview = variants.get("small") or variants.get("thumb")
    meta: JsonObject = {}
    if view.get("width") and view.get("height"):
        meta["original"] = _dimensions(view["width"], view["height"])
        if view.get("duration_s") is not None:
            meta["original"]["duration"] = view["duration_s"]
    if preview is not None and preview.get("width") and preview.get("height"):
        meta["small"] = _dimensions(preview["width"], preview["height"])
    return {
        "id": media_id,
        "type": kind if kind in {"image", "video", "audio"} else "unknown",
        "url": url,
        "preview_url": absolute(base_url, preview["url"]) if preview is not None else url,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": view.get("alt_text"),
        "blurhash": None,
    }


def _dimensions(width: int, height: int) -> JsonObject:
    return {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height}


async def status_facts(
    services: ApiServices, views: Iterable[JsonObject], *, base_url: str, viewer_id: int | None
) -> StatusFacts:
    """The facts the views' statuses need, in one Redis pipeline: the viewer's likes,
    retweets and bookmarks of the tweets shown, the mentioned accounts' ids and the authors
    of the tweets replied to."""
    originals = {str(original_of(v)["id"]): original_of(v) for v in views}
    if not originals:
        return StatusFacts(base_url)
    spaces = await services.read_models.namespaces(*STATUS_PROJECTIONS)
    tweet_ids = list(originals)
    handles = sorted({h.lower() for v in originals.values() for h in v.get("mentions", [])})
    parents = sorted({str(v["reply_to"]) for v in originals.values() if v.get("reply_to")})
    if viewer_id is None and not handles and not parents:
        return StatusFacts(base_url)
    checks = [(int(tweet_id), viewer_id) for tweet_id in tweet_ids] if viewer_id else []
    async with services.redis.pipeline(transaction=False) as pipe:
        for tweet_id, viewer in checks:
            queue_likes_it(pipe, spaces["likes"], tweet_id, viewer)
            queue_has_retweeted(pipe, spaces["tweets"], tweet_id, viewer)
            queue_is_bookmarked(pipe, spaces["bookmarks"], viewer, tweet_id)
        for handle in handles:
            queue_user_id_for_handle(pipe, spaces["users"], handle)
        for parent in parents:
            queue_stored_tweet(pipe, spaces["tweets"], int(parent))
        rows = await pipe.execute()
    states = rows[: 3 * len(checks)]
    found_ids = rows[len(states) : len(states) + len(handles)]
    found_parents = rows[len(states) + len(handles) :]
    by_tweet = [states[i : i + 3] for i in range(0, len(states), 3)]
    reply_authors = {
        parent: str(orjson.loads(raw)["author_id"])
        for parent, raw in zip(parents, found_parents, strict=True)
        if raw is not None
    }
    return StatusFacts(
        base_url,
        favourited=frozenset(
            t for t, s in zip(tweet_ids, by_tweet, strict=False) if s[0] is not None
        ),
        reblogged=frozenset(t for t, s in zip(tweet_ids, by_tweet, strict=False) if s[1]),
        bookmarked=frozenset(t for t, s in zip(tweet_ids, by_tweet, strict=False) if s[2]),
        account_ids={
            handle: (raw.decode() if isinstance(raw, bytes) else str(raw))
            for handle, raw in zip(handles, found_ids, strict=True)
            if raw is not None
        },
        reply_authors=reply_authors,
    )


async def status_entities(
    services: ApiServices, views: list[JsonObject], *, base_url: str, viewer_id: int | None
) -> list[JsonObject]:
    """Statuses of `/v1` tweet views (in their order), as `viewer_id` sees them."""
    facts = await status_facts(services, views, base_url=base_url, viewer_id=viewer_id)
    return [status_entity(view, facts) for view in views]
