"""The list and bookmark rules of the domain: names, the member cap, the events they make."""

from __future__ import annotations

import pytest

from domain import collections as rules
from domain.errors import InvalidListName, ListFull
from domain.events import ListCreated, ListMemberAdded, TweetBookmarked


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Astronomers", "Astronomers"),
        ("  padded  ", "padded"),
        ("Cafe\u0301", "Café"),
        ("x" * 25, "x" * 25),
    ],
)
def test_a_list_name_is_normalised_and_stripped(given: str, kept: str) -> None:
    assert rules.create_list(1, given, list_id=2, now_ms=3) == ListCreated(2, 1, kept, 3)


@pytest.mark.parametrize("name", ["", "   ", "\u3000", "x" * 26, "tab\there", "bell\x07"])
def test_a_bad_list_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidListName):
        rules.create_list(1, name, list_id=2, now_ms=3)
    with pytest.raises(InvalidListName):
        rules.rename_list(2, 1, name, now_ms=3)


def test_a_list_holds_at_most_500_members() -> None:
    added = rules.add_member(2, 1, 9, member_count=rules.MAX_LIST_MEMBERS - 1, now_ms=5)
    assert added == ListMemberAdded(list_id=2, owner_id=1, member_id=9, added_at_ms=5)
    with pytest.raises(ListFull):
        rules.add_member(2, 1, 9, member_count=rules.MAX_LIST_MEMBERS, now_ms=5)


def test_a_bookmark_carries_its_own_id_and_the_tweets_author() -> None:
    made = rules.bookmark(7, 8, 9, bookmark_id=10, now_ms=11)
    assert made == TweetBookmarked(
        bookmark_id=10, user_id=7, tweet_id=8, tweet_author_id=9, bookmarked_at_ms=11
    )
