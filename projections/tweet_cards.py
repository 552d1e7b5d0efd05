"""Tweet cards: a stored tweet with its like, retweet and reply counts, for hydration.

Reads the tweets and likes projections together: their keys of one tweet share a hash slot
(`{tweet id}`), so one script call per tweet answers everything a view needs of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from projections.base import Namespace
from projections.likes import likers_key
from projections.lua import LuaScript
from projections.tweets import (
    StoredTweet,
    replies_key,
    retweet_by_key,
    retweeters_key,
    tweet_key,
)

# KEYS: tweet, likers, retweeters, replies, retweet_by  ARGV: retweeter ids to check
_CARD = LuaScript("projections.scripts", "tweet_card.lua")


@dataclass(frozen=True, slots=True)
class CardSources:
    tweets: Namespace
    likes: Namespace


@dataclass(frozen=True, slots=True)
class TweetCard:
    tweet: StoredTweet
    like_count: int
    retweet_count: int
    reply_count: int
    standing_retweets: dict[int, int]  # retweeter -> the retweet entry that stands


def queue_card(pipe: Any, sources: CardSources, tweet_id: int, retweeters: list[int]) -> None:
    """Queue one card read; `retweeters` are users whose retweets of it to check."""
    _CARD.queue(
        pipe,
        [
            tweet_key(sources.tweets, tweet_id),
            likers_key(sources.likes, tweet_id),
            retweeters_key(sources.tweets, tweet_id),
            replies_key(sources.tweets, tweet_id),
            retweet_by_key(sources.tweets, tweet_id),
        ],
        list(retweeters),
    )


def parse_card(reply: list[Any], retweeters: list[int]) -> TweetCard | None:
    """The card from the script's reply; None when the tweet is gone (deleted, unknown)."""
    stored, likes, retweets, replies, standing = reply
    if not stored:
        return None
    entries = {user: int(entry) for user, entry in zip(retweeters, standing, strict=True) if entry}
    return TweetCard(orjson.loads(stored), int(likes), int(retweets), int(replies), entries)
