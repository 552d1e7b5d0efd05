"""Tweet cards: a stored tweet with its like, retweet and reply counts, for hydration.

Reads the tweets and likes projections together: their keys of one tweet share a hash slot
(`{tweet id}`), so one script call per tweet answers everything a view needs of it on a
cluster, and one call answers a whole page on a single Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from projections.base import Namespace
from projections.likes import likers_key
from projections.lua import LuaScript, ScriptArg
from projections.tweets import (
    StoredTweet,
    replies_key,
    retweet_by_key,
    retweeters_key,
    tweet_key,
)

# KEYS: per tweet: tweet, likers, retweeters, replies, retweet_by
# ARGV: per tweet: n, then n retweeter ids to check
_CARDS = LuaScript("projections.scripts", "tweet_card.lua")


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


CardRequest = tuple[int, list[int]]
"""A tweet id and the retweeters whose retweets of it to check."""


def queue_cards(
    pipe: Any, sources: CardSources, requests: list[CardRequest], *, one_call: bool
) -> list[list[CardRequest]]:
    """Queue the card reads: in one script call when every key may go in one (`one_call`, a
    single Redis), else one call per tweet (on a cluster, a tweet's keys share one slot).
    Returns the requests of each queued call, in order, for `parse_cards`."""
    calls = [requests] if one_call else [[request] for request in requests]
    for call in calls:
        keys: list[str] = []
        args: list[ScriptArg] = []
        for tweet_id, retweeters in call:
            keys += [
                tweet_key(sources.tweets, tweet_id),
                likers_key(sources.likes, tweet_id),
                retweeters_key(sources.tweets, tweet_id),
                replies_key(sources.tweets, tweet_id),
                retweet_by_key(sources.tweets, tweet_id),
            ]
            args += [len(retweeters), *retweeters]
        _CARDS.queue(pipe, keys, args)
    return calls


def parse_cards(replies: list[Any], calls: list[list[CardRequest]]) -> dict[int, TweetCard]:
    """The cards of the tweets that exist, by id, from the replies of `queue_cards`' calls."""
    cards: dict[int, TweetCard] = {}
    for call, reply in zip(calls, replies, strict=True):
        for (tweet_id, retweeters), card in zip(call, reply, strict=True):
            parsed = _parse_card(card, retweeters)
            if parsed is not None:
                cards[tweet_id] = parsed
    return cards


def _parse_card(reply: list[Any], retweeters: list[int]) -> TweetCard | None:
    """The card from the script's reply; None when the tweet is gone (deleted, unknown)."""
    stored, likes, retweets, replies, standing = reply
    if not stored:
        return None
    entries = {user: int(entry) for user, entry in zip(retweeters, standing, strict=True) if entry}
    return TweetCard(orjson.loads(stored), int(likes), int(retweets), int(replies), entries)
