import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidHandle, InvalidTweetText
from domain.text import (
    MAX_TWEET_CHARS,
    check_handle,
    extract_hashtags,
    extract_mentions,
    normalize_tweet_text,
)


def test_280_code_points_are_accepted_and_281_refused() -> None:
    assert len(normalize_tweet_text("a" * MAX_TWEET_CHARS)) == MAX_TWEET_CHARS
    with pytest.raises(InvalidTweetText):
        normalize_tweet_text("a" * (MAX_TWEET_CHARS + 1))


def test_length_counts_code_points_after_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "é") * MAX_TWEET_CHARS  # 560 code points as typed
    assert len(decomposed) == 2 * MAX_TWEET_CHARS
    assert normalize_tweet_text(decomposed) == "é" * MAX_TWEET_CHARS


def test_emoji_counts_as_code_points() -> None:
    assert normalize_tweet_text("🐦" * MAX_TWEET_CHARS)
    with pytest.raises(InvalidTweetText):
        normalize_tweet_text("🐦" * (MAX_TWEET_CHARS + 1))


@pytest.mark.parametrize("text", ["", " ", "\n\t ", "\u3000"])
def test_empty_or_whitespace_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidTweetText):
        normalize_tweet_text(text)


def test_hashtags_are_unicode_and_case_insensitive() -> None:
    text = "Loving #Python and #python, #日本語, #año_2026 but not #123 or a#b"
    assert extract_hashtags(text) == ("python", "日本語", "año_2026")


def test_mentions_are_distinct_and_skip_emails() -> None:
    assert extract_mentions("@Ada hi @bob_1, mail me@example.com, @ada again") == ("ada", "bob_1")


@given(st.text(max_size=300))
def test_extracted_hashtags_appear_in_the_text(text: str) -> None:
    folded = text.casefold()
    for tag in extract_hashtags(text):
        assert tag and tag in folded


@pytest.mark.parametrize("handle", ["", "a" * 16, "bad-handle", "ünï", "with space", "me", "ME"])
def test_bad_handles_are_refused(handle: str) -> None:
    with pytest.raises(InvalidHandle):
        check_handle(handle)


def test_good_handle_is_kept_as_given() -> None:
    assert check_handle("Ada_Lovelace") == "Ada_Lovelace"
