"""Decisions on lists and bookmarks: check a request's invariants, then return its event.

Lists are private to their owner; who owns a list is the use case's to check (it reads the
list). Names count Unicode code points after NFC normalisation, like tweets.
"""

from __future__ import annotations

import unicodedata

from domain.errors import InvalidListName, ListFull
from domain.events import (
    BookmarkRemoved,
    ListCreated,
    ListDeleted,
    ListMemberAdded,
    ListMemberRemoved,
    ListRenamed,
    TweetBookmarked,
)

MAX_LIST_NAME_CHARS = 25
# A list's timeline merges every member's user timeline on each read: this bounds that read.
MAX_LIST_MEMBERS = 500


def check_list_name(name: str) -> str:
    """The name NFC-normalised and stripped: 1-25 characters, no control characters."""
    normalized = unicodedata.normalize("NFC", name).strip()
    if not normalized:
        raise InvalidListName("a list name must contain at least one non-whitespace character")
    if len(normalized) > MAX_LIST_NAME_CHARS:
        raise InvalidListName(f"a list name must be at most {MAX_LIST_NAME_CHARS} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in normalized):
        raise InvalidListName("a list name must not contain control characters")
    return normalized


def create_list(owner_id: int, name: str, *, list_id: int, now_ms: int) -> ListCreated:
    return ListCreated(
        list_id=list_id, owner_id=owner_id, name=check_list_name(name), created_at_ms=now_ms
    )


def rename_list(list_id: int, owner_id: int, name: str, *, now_ms: int) -> ListRenamed:
    return ListRenamed(
        list_id=list_id, owner_id=owner_id, name=check_list_name(name), renamed_at_ms=now_ms
    )


def delete_list(list_id: int, owner_id: int, *, now_ms: int) -> ListDeleted:
    return ListDeleted(list_id=list_id, owner_id=owner_id, deleted_at_ms=now_ms)


def add_member(
    list_id: int, owner_id: int, member_id: int, *, member_count: int, now_ms: int
) -> ListMemberAdded:
    """Add an account to a list that has room for it (`member_count` members now)."""
    if member_count >= MAX_LIST_MEMBERS:
        raise ListFull(f"a list has at most {MAX_LIST_MEMBERS} members")
    return ListMemberAdded(
        list_id=list_id, owner_id=owner_id, member_id=member_id, added_at_ms=now_ms
    )


def remove_member(list_id: int, owner_id: int, member_id: int, *, now_ms: int) -> ListMemberRemoved:
    return ListMemberRemoved(
        list_id=list_id, owner_id=owner_id, member_id=member_id, removed_at_ms=now_ms
    )


def bookmark(
    user_id: int, tweet_id: int, tweet_author_id: int, *, bookmark_id: int, now_ms: int
) -> TweetBookmarked:
    return TweetBookmarked(
        bookmark_id=bookmark_id,
        user_id=user_id,
        tweet_id=tweet_id,
        tweet_author_id=tweet_author_id,
        bookmarked_at_ms=now_ms,
    )


def remove_bookmark(user_id: int, tweet_id: int, *, now_ms: int) -> BookmarkRemoved:
    return BookmarkRemoved(user_id=user_id, tweet_id=tweet_id, removed_at_ms=now_ms)
