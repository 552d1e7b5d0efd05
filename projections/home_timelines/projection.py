"""Home timelines: the newest entries from the people a user follows, with hybrid fan-out.

Push: a tweet or retweet is written into the existing home timelines of the author's followers
(one script call per shard per batch), unless the author has more followers than the
celebrity threshold. Users without a stored timeline (new, or inactive long enough for it to
expire) get nothing pushed; their timeline is rebuilt when they next read it (`read`).
Celebrities' entries are merged in at read time. Follows, unfollows and undone retweets drop
the affected timelines, which are then rebuilt. Deleted tweets are dropped when read.

This package is the only code that reads or writes home-timeline keys (`keys`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from domain.events import (
    Event,
    RetweetUndone,
    TweetPosted,
    TweetRetweeted,
    UserFollowed,
    UserUnfollowed,
)
from projections.base import Namespace
from projections.entries import TimelineEntry
from projections.home_timelines.keys import (
    CELEBRITIES_KEY,
    CELEBRITY_MARKS_KEY,
    CELEBRITY_MARKS_OWNER,
    DEFAULT_SHARDS,
    PROJECTION,
    HomeKeys,
)
from projections.lua import LuaScript, ScriptArg, ScriptCall, pipeline_with_scripts
from projections.node_positions import copy_keys, queue_raise
from projections.writer import read_pointers

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

DEFAULT_CAP = 800
HOLD_TTL_S = 60
PUSH_CHUNK = 500  # deliveries per script call: Redis stays responsive to readers

_DELIVER_TWEETS = LuaScript("projections.home_timelines", "deliver_tweets.lua")
_DELIVER_RETWEETS = LuaScript("projections.home_timelines", "deliver_retweets.lua")
_ADVANCE_MARKS = LuaScript("projections.home_timelines", "advance_marks.lua")


class FollowerDirectory(Protocol):
    """Who follows a user, as the worker knows it."""

    def followers_of(self, user_id: int) -> list[int] | None:
        """The followers, or None for a celebrity (too many to push to)."""
        ...

    def every_follower_of(self, user_id: int) -> list[int]: ...


class NoFollowers:
    """For rebuilds: a new version holds no timelines yet, so there is nobody to push to."""

    def followers_of(self, user_id: int) -> list[int] | None:
        return []

    def every_follower_of(self, user_id: int) -> list[int]:
        return []


class HomeTimelinesProjection:
    name: ClassVar[str] = PROJECTION
    topic_families: ClassVar[tuple[str, ...]] = ("tweets", "follows")

    def __init__(
        self,
        directory: FollowerDirectory | None = None,
        cap: int = DEFAULT_CAP,
        shards: int = DEFAULT_SHARDS,
    ) -> None:
        self.directory = directory or NoFollowers()
        self.cap = cap
        self.shards = shards
        self.deliveries = 0  # entries pushed to timelines by this process (read by metrics)

    def pushes(self, events: Sequence[Event], keys: Namespace) -> list[ScriptCall]:
        """The batch's fan-out, grouped by the recipients' shard: one call per shard and kind
        (a new tweet needs no lookup; a retweet checks what already shows its original)."""
        home = HomeKeys(keys, self.shards)
        tweets: dict[str, tuple[list[str], list[ScriptArg]]] = defaultdict(lambda: ([], []))
        retweets: dict[str, tuple[list[str], list[ScriptArg]]] = defaultdict(lambda: ([], []))
        for event in events:
            match event:
                case TweetPosted():
                    author = event.author_id
                    member = TimelineEntry.tweet(event.tweet_id, author).member
                    recipients = self._recipients(author)
                    self.deliveries += len(recipients)
                    for recipient in recipients:
                        script_keys, args = tweets[home.shard_of(recipient)]
                        script_keys.append(home.home(recipient))
                        args.append(member)
                case TweetRetweeted():
                    author = event.user_id
                    entry = TimelineEntry(event.retweet_id, event.tweet_id, author, 0)
                    own = TimelineEntry.own_prefix(event.tweet_id)
                    recipients = self._recipients(author)
                    self.deliveries += len(recipients)
                    for recipient in recipients:
                        script_keys, args = retweets[home.shard_of(recipient)]
                        script_keys += [home.home(recipient), home.orig(recipient)]
                        args += [entry.member, entry.original_id, own]
        return [
            *chunked_calls(_DELIVER_TWEETS, tweets.values(), self.cap, keys_per_delivery=1),
            *chunked_calls(_DELIVER_RETWEETS, retweets.values(), self.cap, keys_per_delivery=2),
        ]

    def _recipients(self, author: int) -> list[int]:
        return [author, *(self.directory.followers_of(author) or [])]

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        match event:
            case RetweetUndone():
                followers = self.directory.followers_of(event.user_id) or []
                drop_timelines(HomeKeys(keys, self.shards), [event.user_id, *followers], tx)
            case UserFollowed() | UserUnfollowed():
                drop_timelines(HomeKeys(keys, self.shards), [event.follower_id], tx)


def chunked_calls(
    script: LuaScript,
    groups: Iterable[tuple[list[str], list[ScriptArg]]],
    cap: int,
    *,
    keys_per_delivery: int,
) -> list[ScriptCall]:
    """One call per group of deliveries (a shard's), split every `PUSH_CHUNK` deliveries."""
    calls: list[ScriptCall] = []
    for script_keys, args in groups:
        args_per_delivery = len(args) // (len(script_keys) // keys_per_delivery)
        for first in range(0, len(script_keys) // keys_per_delivery, PUSH_CHUNK):
            last = first + PUSH_CHUNK
            calls.append(
                (
                    script,
                    script_keys[first * keys_per_delivery : last * keys_per_delivery],
                    [cap, *args[first * args_per_delivery : last * args_per_delivery]],
                )
            )
    return calls


def drop_timelines(home: HomeKeys, users: Iterable[int], pipe: Any) -> None:
    for user in users:
        pipe.delete(home.home(user), home.orig(user))


async def hold_for_follow(
    redis: Any, follower_id: int, followee_id: int, *, shards: int = DEFAULT_SHARDS
) -> None:
    """Before a follow or unfollow is written: until the worker's follow-edge table has it
    (`after_follows` then drops the timeline and lifts the hold), a rebuild would miss pushes,
    so it is served but not stored. The hold expires by itself should the write never happen."""
    key = HomeKeys(Namespace(PROJECTION, 0), shards).holds(follower_id)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.sadd(key, followee_id)
        pipe.expire(key, HOLD_TTL_S)
        await pipe.execute()


async def live_spaces(redis: Any, shards: int) -> list[HomeKeys]:
    """The keys of every live version (serving and building), at least version 1."""
    pointers = await read_pointers(redis)
    versions = {
        version for field, version in pointers.items() if field.startswith(f"{PROJECTION}:")
    } or {1}
    return [HomeKeys(Namespace(PROJECTION, version), shards) for version in sorted(versions)]


async def after_follows(
    redis: Any,
    follows: Sequence[UserFollowed | UserUnfollowed],
    celebrity_now: dict[int, bool],
    directory: FollowerDirectory,
    *,
    reflected: Mapping[str, int],
    shards: int = DEFAULT_SHARDS,
) -> None:
    """The worker's follow-edge table has these follows: bring the home timelines in line.

    `celebrity_now` says, for each followee, whether it has more followers than the celebrity
    threshold once these edges are in; `reflected`, the last offset of each partition of the
    table's topic that the table now holds (the celebrity marks move there).

    Drops the followers' timelines in every live version (a rebuild made before an edge
    arrived may lack entries pushed meanwhile), keeps the celebrities each user follows up to
    date (all of a user's followers when the user crosses the threshold) and lifts the holds.
    """
    spaces = await live_spaces(redis, shards)
    any_space = spaces[0]
    followees = sorted({follow.followee_id for follow in follows})
    listed = await redis.smismember(CELEBRITIES_KEY, followees) if followees else []
    celebrity_before = dict(zip(followees, listed, strict=True))

    copies = await copy_keys(redis)

    def queue(pipe: Any) -> None:
        for user in followees:
            if celebrity_now[user] == bool(celebrity_before[user]):
                continue
            fans = directory.every_follower_of(user)
            if celebrity_now[user]:
                pipe.sadd(CELEBRITIES_KEY, user)
                for fan in fans:
                    pipe.sadd(any_space.celebs(fan), user)
            else:
                pipe.srem(CELEBRITIES_KEY, user)
                for fan in fans:  # their timelines lack what was merged, not pushed
                    pipe.srem(any_space.celebs(fan), user)
                    for space in spaces:
                        drop_timelines(space, [fan], pipe)
        for follow in follows:
            follower, followee = follow.follower_id, follow.followee_id
            if isinstance(follow, UserFollowed) and celebrity_now[followee]:
                pipe.sadd(any_space.celebs(follower), followee)
            else:
                pipe.srem(any_space.celebs(follower), followee)
            for space in spaces:
                drop_timelines(space, [follower], pipe)
            pipe.srem(any_space.holds(follower), followee)
        if reflected:
            args: list[ScriptArg] = [a for pair in reflected.items() for a in pair]
            _ADVANCE_MARKS.queue(pipe, [CELEBRITY_MARKS_KEY], args)
            queue_raise(pipe, copies, [(CELEBRITY_MARKS_OWNER, reflected)])

    await pipeline_with_scripts(redis, queue)  # every command can run twice
