"""Mastodon's entities, built from the `/v1` views (the same read models, another shape).

Ids are strings, times ISO 8601, URLs absolute (from the request's base URL)."""

from __future__ import annotations

from typing import Any

from api.views import JsonObject

DEFAULT_AVATAR = "/static/avatar.png"
DEFAULT_HEADER = "/static/header.png"


def absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path if path.startswith("/") else path


def account_entity(user: JsonObject, base_url: str, **extra: Any) -> JsonObject:
    """An Account from a `/v1` user view (`user_view`, or a summary with id, handle and
    display name: the counts are then 0). `extra` sets fields the view does not carry
    (`note`, `avatar`, ...)."""
    handle = user["handle"] or "deleted"
    avatar = absolute(base_url, extra.pop("avatar", None) or DEFAULT_AVATAR)
    header = absolute(base_url, extra.pop("header", None) or DEFAULT_HEADER)
    entity: JsonObject = {
        "id": str(user["id"]),
        "username": handle,
        "acct": handle,
        "display_name": user.get("display_name") or handle,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "indexable": True,
        "group": False,
        "created_at": user.get("created_at", "1970-01-01T00:00:00.000Z"),
        "note": "",
        "url": absolute(base_url, f"/@{handle}"),
        "uri": absolute(base_url, f"/@{handle}"),
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": user.get("followers_count", 0),
        "following_count": user.get("following_count", 0),
        "statuses_count": user.get("tweet_count", 0),
        "last_status_at": None,
        "hide_collections": False,
        "noindex": False,
        "emojis": [],
        "roles": [],
        "fields": [],
    }
    entity.update(extra)
    return entity
