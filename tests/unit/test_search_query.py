"""Search queries as users type them, and what each event does to the tweet index."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.events import TweetDeleted, TweetLiked, TweetPosted, TweetRetweeted
from domain.search import (
    MAX_QUERY_CHARS,
    InvalidSearchQuery,
    PutTweet,
    RemoveTweet,
    SearchQuery,
    TweetDocument,
    index_changes,
    parse_search_query,
)


def test_a_query_mixes_words_phrases_hashtags_and_authors() -> None:
    query = parse_search_query('Running dogs "big red barn" #Kafka from:Ada #py,')
    assert query == SearchQuery(
        words=("Running", "dogs"),
        phrases=(("big", "red", "barn"),),
        hashtags=("kafka", "py"),
        handles=("ada",),
    )
    assert query.has_text


def test_punctuation_splits_words_as_the_index_does() -> None:
    assert parse_search_query("don't stop-me").words == ("don", "t", "stop", "me")


def test_a_quoted_single_word_is_a_word_and_repeats_count_once() -> None:
    query = parse_search_query('"kafka" kafka #x #X')
    assert query.words == ("kafka",)
    assert query.phrases == ()
    assert query.hashtags == ("x",)


def test_filters_alone_are_a_query_that_relevance_cannot_rank() -> None:
    query = parse_search_query("from:ada #news")
    assert not query.has_text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('"unclosed phrase', "not closed"),
        ("   ", "no word"),
        ('""', "no word"),
        ("!!! ...", "no word"),
        ("from:", "does not name a handle"),
        ("from:not-a-handle", "does not name a handle"),
        ("from:waytoolongahandle1", "does not name a handle"),
        ("#", "is not a hashtag"),
        ("#123", "is not a hashtag"),
        ("x" * (MAX_QUERY_CHARS + 1), "longer than"),
        (" ".join(f"w{i}" for i in range(21)), "more than 20 terms"),
    ],
)
def test_unreadable_queries_are_refused_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(InvalidSearchQuery, match=why):
        parse_search_query(text)


@given(st.text(max_size=MAX_QUERY_CHARS))
def test_any_text_parses_or_is_refused_never_crashes(text: str) -> None:
    try:
        query = parse_search_query(text)
    except InvalidSearchQuery:
        return
    assert query.words or query.phrases or query.hashtags or query.handles
    assert all(len(phrase) > 1 for phrase in query.phrases)
    assert all(word and '"' not in word and " " not in word for word in query.words)


@given(st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), min_size=2, max_size=5))
def test_a_quoted_phrase_keeps_its_words_in_order(words: list[str]) -> None:
    query = parse_search_query('"' + " ".join(words) + '"')
    assert query.phrases == (tuple(words),)


def test_a_post_replaces_its_document_and_a_delete_removes_it() -> None:
    posted = TweetPosted(7, 3, "hello #Chirp", 1000, hashtags=("chirp",))
    assert index_changes(posted) == (PutTweet(TweetDocument(7, 3, "hello #Chirp", ("chirp",))),)
    assert index_changes(TweetDeleted(7, 3, 2000, 1000)) == (RemoveTweet(7),)


def test_retweets_and_likes_add_no_document() -> None:
    assert index_changes(TweetRetweeted(8, 7, 4, 3000)) == ()
    assert index_changes(TweetLiked(7, 4, 3000)) == ()
