"""Timeline entries as sorted-set members, and the home fan-out grouped by shard."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.events import TweetPosted, TweetRetweeted
from projections.base import Namespace
from projections.entries import TimelineEntry, before_bound, earliest_per_original
from projections.home_timelines import HomeKeys, HomeTimelinesProjection

ids = st.integers(min_value=1, max_value=(1 << 63) - 1)


@given(ids, ids, ids, ids)
def test_a_member_parses_back_to_its_entry(
    entry: int, original: int, actor: int, author: int
) -> None:
    timeline_entry = TimelineEntry(entry, original, actor, author)
    assert TimelineEntry.parse(timeline_entry.member) == timeline_entry
    assert TimelineEntry.parse(timeline_entry.member.encode()) == timeline_entry


@given(st.lists(st.tuples(ids, ids), min_size=2, max_size=20))
def test_member_order_is_entry_order(pairs: list[tuple[int, int]]) -> None:
    entries = [TimelineEntry(entry, original, 1, 1) for entry, original in pairs]
    by_member = sorted(entries, key=lambda e: e.member)
    assert [e.entry_id for e in by_member] == sorted(e.entry_id for e in entries)


def test_a_page_bound_excludes_the_cursor_entry_and_keeps_older_ones() -> None:
    cursor = TimelineEntry(500, 400, 7, 8)
    older = TimelineEntry(499, 499, 7, 7)
    bound = before_bound(cursor.entry_id)
    assert bound.startswith("(")
    assert older.member < bound[1:] < cursor.member
    assert before_bound(None) == "+"


def test_a_tweet_shows_once_as_its_earliest_entry() -> None:
    tweet = TimelineEntry.tweet(10, 1)
    first_retweet = TimelineEntry(20, 10, 2, 0)
    second_retweet = TimelineEntry(30, 10, 3, 0)
    other = TimelineEntry.tweet(25, 4)
    assert earliest_per_original([second_retweet, first_retweet, other]) == [other, first_retweet]
    assert earliest_per_original([first_retweet, tweet, other]) == [other, tweet]


class Followers:
    def __init__(self, graph: dict[int, list[int] | None]) -> None:
        self.graph = graph

    def followers_of(self, user_id: int) -> list[int] | None:
        return self.graph.get(user_id, [])

    def every_follower_of(self, user_id: int) -> list[int]:
        return self.graph.get(user_id) or []


def test_fan_out_makes_one_script_call_per_shard_whose_keys_share_it() -> None:
    keys = Namespace("home_timelines", 3)
    shards = 4
    projection = HomeTimelinesProjection(
        Followers({1: list(range(100, 140)), 2: None}), shards=shards
    )
    events = [
        TweetPosted(tweet_id=1000, author_id=1, text="hi", created_at_ms=0),
        TweetRetweeted(retweet_id=1001, tweet_id=900, user_id=1, retweeted_at_ms=0),
        TweetPosted(tweet_id=1002, author_id=2, text="celebrity", created_at_ms=0),
    ]
    calls = projection.pushes(events, keys)
    home = HomeKeys(keys, shards)
    assert len(calls) == 2 * shards  # per shard: one call of new tweets, one of retweets
    delivered: dict[int, list[str]] = {}
    for script, script_keys, args in calls:
        tags = {key.split("{")[1].split("}")[0] for key in script_keys}
        assert len(tags) == 1  # one hash slot per call
        if script.name == "deliver_tweets.lua":
            pairs = zip(script_keys, args[1:], strict=True)
        else:  # (home, orig) keys; (member, original, own entry prefix) arguments
            pairs = zip(script_keys[::2], args[1::3], strict=True)
        for home_key, member in pairs:
            user = int(home_key.rsplit(":", 1)[1])
            assert home_key == home.home(user)
            delivered.setdefault(user, []).append(str(member))
    # The author and every follower get both entries of user 1; the celebrity's tweet only
    # reaches the celebrity's own timeline (followers merge it in when they read).
    assert set(delivered) == {1, 2, *range(100, 140)}
    assert all(len(members) == 2 for user, members in delivered.items() if user != 2)
    assert delivered[2] == [TimelineEntry.tweet(1002, 2).member]
