import math

import pytest

from domain.commands import GeoPoint, PostTweet, RegisterUser
from domain.errors import InvalidLocation, InvalidPassword, InvalidTweetText
from domain.model import post_tweet, register_user


def test_posting_returns_an_event_with_extracted_tags() -> None:
    event = post_tweet(
        PostTweet(author_id=1, text="hi @Bob #Chirp #chirp", media_ids=(5, 5, 6)),
        tweet_id=99,
        now_ms=1_700_000_000_000,
    )
    assert event.tweet_id == 99 and event.author_id == 1
    assert event.hashtags == ("chirp",) and event.mentions == ("bob",)
    assert event.media_ids == (5, 6)


def test_posting_refuses_bad_text_before_making_an_event() -> None:
    with pytest.raises(InvalidTweetText):
        post_tweet(PostTweet(author_id=1, text="   "), tweet_id=1, now_ms=0)


@pytest.mark.parametrize(
    "location", [GeoPoint(91, 0), GeoPoint(0, -181), GeoPoint(math.nan, 0), GeoPoint(0, math.inf)]
)
def test_locations_out_of_range_are_refused(location: GeoPoint) -> None:
    with pytest.raises(InvalidLocation):
        post_tweet(PostTweet(author_id=1, text="x", location=location), tweet_id=1, now_ms=0)


def test_registration_defaults_display_name_to_handle() -> None:
    event = register_user(
        RegisterUser("ada", "correct horse"), user_id=5, password_hash="h", now_ms=1
    )
    assert event.display_name == "ada" and event.handle == "ada"


def test_short_passwords_are_refused() -> None:
    with pytest.raises(InvalidPassword):
        register_user(RegisterUser("ada", "short"), user_id=5, password_hash="h", now_ms=1)
