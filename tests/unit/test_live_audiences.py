"""Who hears a live feed entry: home, notification-only and public audiences (no Redis)."""

from __future__ import annotations

from api.live import HOME, NOTIFICATIONS, PUBLIC, Subscription
from projections.live import LiveEntry

READER, FOLLOWEE, STRANGER = 1, 2, 3

TWEET = LiveEntry("tweet", STRANGER, 10, 10)
FOLLOWED_TWEET = LiveEntry("tweet", FOLLOWEE, 11, 11)
RETWEET = LiveEntry("retweet", STRANGER, 10, 12, FOLLOWEE)
DELETE = LiveEntry("delete", STRANGER, 10, 10)
NOTE = LiveEntry("notification", STRANGER, 11, 0, READER, 5, "like")
FOLLOW = LiveEntry("follow", READER, 0, 0, STRANGER)


def heard(subscription: Subscription) -> list[LiveEntry]:
    entries = (TWEET, FOLLOWED_TWEET, RETWEET, DELETE, NOTE, FOLLOW)
    return [entry for entry in entries if subscription.wants(entry)]


def test_a_home_audience_hears_followees_and_its_notifications() -> None:
    assert heard(Subscription(READER, {FOLLOWEE}, "0-0", HOME)) == [FOLLOWED_TWEET, NOTE]


def test_a_notification_audience_hears_only_its_notifications() -> None:
    assert heard(Subscription(READER, set(), "0-0", NOTIFICATIONS)) == [NOTE]


def test_a_public_audience_hears_every_tweet_and_deletion_but_no_retweet() -> None:
    assert heard(Subscription(0, set(), "0-0", PUBLIC)) == [TWEET, FOLLOWED_TWEET, DELETE]
    assert heard(Subscription(READER, set(), "0-0", PUBLIC)) == [TWEET, FOLLOWED_TWEET, DELETE]
