"""Notifications: who mentioned, replied to, quoted, liked, retweeted or followed each user,
grouped the way people read them ("ada and 4 others liked your tweet").

One group per recipient, kind and target: a like or retweet group is about the recipient's
tweet and gathers every actor; a mention, reply or quote group is about the tweet that
mentions, replies or quotes (one actor); the follow group gathers every follower. A group's
time is its newest actor's. Nobody is notified of their own actions. Unlikes, unfollows and
undone retweets take their actor back out (an emptied group goes); a deleted tweet takes its
like and retweet groups away for good. A deleted mention, reply or quote is dropped when read
(`projections.tweets` keeps its tombstone; the event naming its deletion does not say whom it
had notified). Events name whom they notify (the tweet's author, the mentioned users, resolved
when the write was accepted), so applying them needs no other read model, in any order.

Keys (under `chirp:notifications:v{n}:`, hash-tagged by recipient, so one recipient's keys
share a slot and each script touches one slot):
- `groups:{kind}:{user}` -> sorted set of targets (tweet id; `0` for follows) by the group's
  time in ms.
- `actors:{kind}:{target}:{user}` -> sorted set of actor ids by the time each acted.
- `gone:{user}` -> set of the user's deleted tweets: a like applied after the deletion (the
  likes and tweets topics are read independently) makes no group again.
- `read:{user}` -> sorted set with one member, `seen`, scored by the read marker (`ZADD GT`:
  the marker only moves forward, whatever order markers are applied in).

This module is the only code that reads or writes these keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from domain.events import (
    Event,
    NotificationsRead,
    RetweetUndone,
    TweetDeleted,
    TweetLiked,
    TweetPosted,
    TweetRetweeted,
    TweetUnliked,
    UserFollowed,
    UserUnfollowed,
)
from projections.base import Namespace, as_text
from projections.lua import LuaScript

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline
    from redis.asyncio.cluster import ClusterPipeline

    from projections.redis_client import RedisClient

KINDS = ("mention", "reply", "quote", "like", "retweet", "follow")
TWEET_KINDS = frozenset({"mention", "reply", "quote"})
"""Kinds whose target is the actor's own tweet (one actor per group)."""
GROUPED_KINDS = frozenset({"like", "retweet"})
"""Kinds whose target is the recipient's tweet, gathering every actor."""
SAMPLE_SIZE = 3  # accounts shown per group: the newest actors
NO_TARGET = 0  # the follow group's target
SEEN = "seen"

# KEYS: gone, groups, actors  ARGV: tweet to check ('' none), member, actor, time
_ADD = LuaScript("projections.scripts", "notification_add.lua")
# KEYS: groups, actors  ARGV: member, actor
_REMOVE = LuaScript("projections.scripts", "notification_remove.lua")


@dataclass(frozen=True, slots=True)
class Notification:
    """One actor's part in a notification group: `actor_id` did `kind` to `recipient_id`,
    about `target_id` (0 for follows), at `at_ms`."""

    kind: str
    recipient_id: int
    target_id: int
    actor_id: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class NotificationChange:
    """What one event does to notifications (for the projection and for live streams)."""

    added: tuple[Notification, ...] = ()
    removed: tuple[Notification, ...] = ()
    deleted_tweet: tuple[int, int] | None = None
    """(author, tweet): the author's like and retweet groups about the tweet go for good."""


def notifications_of(event: Event) -> NotificationChange:
    """The notifications an event adds or takes back. Pure: the event says whom it concerns."""
    match event:
        case TweetPosted():
            return NotificationChange(added=tuple(_addressed(event)))
        case TweetLiked() | TweetRetweeted() if _for_other(event.tweet_author_id, event.user_id):
            kind = "like" if isinstance(event, TweetLiked) else "retweet"
            at_ms = event.liked_at_ms if isinstance(event, TweetLiked) else event.retweeted_at_ms
            assert event.tweet_author_id is not None
            return NotificationChange(
                added=(
                    Notification(kind, event.tweet_author_id, event.tweet_id, event.user_id, at_ms),
                )
            )
        case TweetUnliked() | RetweetUndone() if _for_other(event.tweet_author_id, event.user_id):
            kind = "like" if isinstance(event, TweetUnliked) else "retweet"
            at_ms = event.unliked_at_ms if isinstance(event, TweetUnliked) else event.undone_at_ms
            assert event.tweet_author_id is not None
            return NotificationChange(
                removed=(
                    Notification(kind, event.tweet_author_id, event.tweet_id, event.user_id, at_ms),
                )
            )
        case UserFollowed() if event.follower_id != event.followee_id:
            follow = Notification(
                "follow", event.followee_id, NO_TARGET, event.follower_id, event.followed_at_ms
            )
            return NotificationChange(added=(follow,))
        case UserUnfollowed() if event.follower_id != event.followee_id:
            follow = Notification(
                "follow", event.followee_id, NO_TARGET, event.follower_id, event.unfollowed_at_ms
            )
            return NotificationChange(removed=(follow,))
        case TweetDeleted():
            return NotificationChange(deleted_tweet=(event.author_id, event.tweet_id))
    return NotificationChange()


def _for_other(recipient_id: int | None, actor_id: int) -> bool:
    """An event written before notifications names no recipient; nobody hears of their own."""
    return recipient_id is not None and recipient_id != actor_id


def _addressed(event: TweetPosted) -> Iterable[Notification]:
    """One notification per user the tweet addresses: a reply, else a quote, else a mention."""
    addressed = [
        ("reply", event.reply_to_author_id),
        ("quote", event.quote_of_author_id),
        *(("mention", user_id) for user_id in event.mentioned_user_ids),
    ]
    notified = {event.author_id}
    for kind, recipient in addressed:
        if recipient is None or recipient in notified:
            continue
        notified.add(recipient)
        yield Notification(kind, recipient, event.tweet_id, event.author_id, event.created_at_ms)


def groups_key(keys: Namespace, kind: str, user_id: int) -> str:
    return keys.of(f"groups:{kind}", user_id)


def actors_key(keys: Namespace, kind: str, target_id: int, user_id: int) -> str:
    return keys.of(f"actors:{kind}:{target_id}", user_id)


def gone_key(keys: Namespace, user_id: int) -> str:
    return keys.of("gone", user_id)


def read_key(keys: Namespace, user_id: int) -> str:
    return keys.of("read", user_id)


class NotificationsProjection:
    name: ClassVar[str] = "notifications"
    topic_families: ClassVar[tuple[str, ...]] = ("tweets", "likes", "follows", "users")

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        if isinstance(event, NotificationsRead):
            tx.zadd(read_key(keys, event.user_id), {SEEN: event.last_seen_at_ms}, gt=True)
            return
        change = notifications_of(event)
        for added in change.added:
            recipient, target = added.recipient_id, added.target_id
            _ADD.queue(
                tx,
                [
                    gone_key(keys, recipient),
                    groups_key(keys, added.kind, recipient),
                    actors_key(keys, added.kind, target, recipient),
                ],
                [
                    target if added.kind in GROUPED_KINDS else "",
                    target,
                    added.actor_id,
                    added.at_ms,
                ],
            )
        for removed in change.removed:
            recipient, target = removed.recipient_id, removed.target_id
            _REMOVE.queue(
                tx,
                [
                    groups_key(keys, removed.kind, recipient),
                    actors_key(keys, removed.kind, target, recipient),
                ],
                [target, removed.actor_id],
            )
        if change.deleted_tweet is not None:
            author_id, tweet_id = change.deleted_tweet
            tx.sadd(gone_key(keys, author_id), tweet_id)
            for kind in sorted(GROUPED_KINDS):
                tx.delete(actors_key(keys, kind, tweet_id, author_id))
                tx.zrem(groups_key(keys, kind, author_id), tweet_id)


# --- Reading ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class GroupPosition:
    """Where a group sits in a user's list: newest first, then by kind, then newest target.
    Also the list's cursor: a page lists the groups after one of these."""

    latest_at_ms: int
    kind: str
    target_id: int

    def sort_key(self) -> tuple[int, int, int]:
        return (-self.latest_at_ms, KINDS.index(self.kind), -self.target_id)

    def token(self) -> str:
        return f"{self.latest_at_ms}-{self.kind}-{self.target_id}"

    @classmethod
    def parse(cls, token: str) -> GroupPosition | None:
        """The position a cursor token names, or None if it names none."""
        latest, _, rest = token.partition("-")
        kind, _, target = rest.partition("-")
        if not (latest.isdigit() and target.isdigit() and kind in KINDS):
            return None
        if len(latest) > 15 or len(target) > 19:
            return None
        return cls(int(latest), kind, int(target))


@dataclass(frozen=True, slots=True)
class NotificationGroup:
    """One entry of a user's notifications: its newest actors first."""

    position: GroupPosition
    count: int
    sample_actor_ids: tuple[int, ...]

    @property
    def kind(self) -> str:
        return self.position.kind

    @property
    def target_id(self) -> int | None:
        return None if self.position.target_id == NO_TARGET else self.position.target_id


async def group_positions(
    redis: RedisClient,
    keys: Namespace,
    user_id: int,
    kinds: Sequence[str],
    *,
    count: int,
    after: GroupPosition | None,
) -> list[GroupPosition]:
    """Up to `count` groups of these kinds after `after`, in list order, in one round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        for kind in kinds:
            key = groups_key(keys, kind, user_id)
            if after is None:
                pipe.zrevrangebyscore(key, "+inf", "-inf", start=0, num=count, withscores=True)
            else:
                # Groups at the cursor's own time (rare ties), then every older one.
                pipe.zrangebyscore(key, after.latest_at_ms, after.latest_at_ms, withscores=True)
                pipe.zrevrangebyscore(
                    key, f"({after.latest_at_ms}", "-inf", start=0, num=count, withscores=True
                )
        rows = await pipe.execute()
    per_kind = 1 if after is None else 2
    found: list[GroupPosition] = []
    for index, kind in enumerate(kinds):
        for row in rows[index * per_kind : (index + 1) * per_kind]:
            found += [GroupPosition(int(score), kind, int(as_text(m))) for m, score in row]
    if after is not None:
        found = [p for p in found if p.sort_key() > after.sort_key()]
    return sorted(found, key=GroupPosition.sort_key)[:count]


async def groups_at(
    redis: RedisClient, keys: Namespace, user_id: int, positions: Sequence[GroupPosition]
) -> list[NotificationGroup]:
    """Each group's actor count and newest actors, in one round trip."""
    if not positions:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for position in positions:
            key = actors_key(keys, position.kind, position.target_id, user_id)
            pipe.zcard(key)
            pipe.zrevrange(key, 0, SAMPLE_SIZE - 1)
        rows = await pipe.execute()
    groups: list[NotificationGroup] = []
    for index, position in enumerate(positions):
        count, sample = rows[2 * index], rows[2 * index + 1]
        if count:
            groups.append(
                NotificationGroup(position, int(count), tuple(int(as_text(a)) for a in sample))
            )
    return groups


async def read_marker(redis: RedisClient, keys: Namespace, user_id: int) -> int:
    """The time up to which the user has read their notifications (0: never)."""
    score = await redis.zscore(read_key(keys, user_id), SEEN)
    return int(score) if score is not None else 0


async def unread_positions(
    redis: RedisClient, keys: Namespace, user_id: int, *, check_limit: int
) -> tuple[int, list[GroupPosition]]:
    """(how many groups are newer than the read marker, the first `check_limit` unread
    mention, reply and quote groups of each kind): the caller checks those against deleted
    tweets and counts the rest (beyond the limit) as live."""
    marker = await read_marker(redis, keys, user_id)
    async with redis.pipeline(transaction=False) as pipe:
        for kind in KINDS:
            key = groups_key(keys, kind, user_id)
            pipe.zcount(key, f"({marker}", "+inf")
            if kind in TWEET_KINDS:
                pipe.zrangebyscore(
                    key, f"({marker}", "+inf", start=0, num=check_limit, withscores=True
                )
        rows = iter(await pipe.execute())
    unread = 0
    to_check: list[GroupPosition] = []
    for kind in KINDS:
        unread += int(next(rows))
        if kind in TWEET_KINDS:
            to_check += [
                GroupPosition(int(score), kind, int(as_text(m))) for m, score in next(rows)
            ]
    return unread, to_check


def parse_kinds(text: str) -> tuple[str, ...] | None:
    """Comma-separated kinds (`like,follow`) in list order, or None if one is unknown."""
    named = {part.strip() for part in text.split(",")}
    if not named or not named <= set(KINDS):
        return None
    return tuple(kind for kind in KINDS if kind in named)


# --- Reading one notification per actor (the Mastodon client API lists them so) -----------

NotificationKey = tuple[int, int, int, int]
"""A notification's place among a user's: (time, kind rank, target, actor), newest largest.
The kind rank is `len(KINDS) - 1 - KINDS.index(kind)`, so that among groups of one time the
order agrees with the grouped list's (`GroupPosition`)."""
SCAN_BATCH = 100  # groups read per round trip while looking for a page's notifications


def kind_rank(kind: str) -> int:
    return len(KINDS) - 1 - KINDS.index(kind)


def kind_of_rank(rank: int) -> str | None:
    index = len(KINDS) - 1 - rank
    return KINDS[index] if 0 <= index < len(KINDS) else None


def notification_key(notification: Notification) -> NotificationKey:
    n = notification
    return (n.at_ms, kind_rank(n.kind), n.target_id, n.actor_id)


def _queue_window(
    pipe: Pipeline | ClusterPipeline,
    key: str,
    lo_ms: int | None,
    hi_ms: int | None,
    count: int,
    oldest: bool,
) -> int:
    """Queue the members of `key` scored within [lo_ms, hi_ms]: every one at the bound the
    read starts from (ties there are cut by the full key later), then `count` more beyond it.
    Returns how many commands it queued."""
    start = lo_ms if oldest else hi_ms
    queued = 0
    if start is not None:
        pipe.zrangebyscore(key, start, start, withscores=True)
        queued += 1
    low = "-inf" if lo_ms is None else (f"({lo_ms}" if oldest else lo_ms)
    high = "+inf" if hi_ms is None else (hi_ms if oldest else f"({hi_ms}")
    if oldest:
        pipe.zrangebyscore(key, low, high, start=0, num=count, withscores=True)
    else:
        pipe.zrevrangebyscore(key, high, low, start=0, num=count, withscores=True)
    return queued + 1


async def notifications_between(
    redis: RedisClient,
    keys: Namespace,
    user_id: int,
    kinds: Sequence[str],
    *,
    count: int,
    above: NotificationKey | None = None,
    below: NotificationKey | None = None,
    oldest_first: bool = False,
) -> list[Notification]:
    """One notification per actor of each group, strictly between `above` and `below`: the
    `count` newest (or, with `oldest_first`, the `count` oldest, oldest first).

    Mention, reply and quote groups hold one actor at the group's time, so they are read
    straight from the groups' sorted sets. Like, retweet and follow groups are read newest
    group first, each group's actors within the bounds, until no group left can hold a
    notification that would make the page (a group's actors are never newer than it): a
    page deep in a long history reads every such group with activity newer than the page."""
    lo_ms = above[0] if above is not None else None
    hi_ms = below[0] if below is not None else None
    found: list[Notification] = []
    single = [kind for kind in kinds if kind in TWEET_KINDS]
    if single:
        async with redis.pipeline(transaction=False) as pipe:
            queued = [
                _queue_window(
                    pipe, groups_key(keys, kind, user_id), lo_ms, hi_ms, count, oldest_first
                )
                for kind in single
            ]
            rows = iter(await pipe.execute())
        hits = [
            (kind, int(as_text(member)), int(score))
            for kind, n in zip(single, queued, strict=True)
            for _ in range(n)
            for member, score in next(rows)
        ]
        async with redis.pipeline(transaction=False) as pipe:
            for kind, target, _ in hits:
                pipe.zrange(actors_key(keys, kind, target, user_id), 0, 0)
            actors = await pipe.execute()
        found += [
            Notification(kind, user_id, target, int(as_text(actor[0])), at_ms)
            for (kind, target, at_ms), actor in zip(hits, actors, strict=True)
            if actor
        ]
    multi = [kind for kind in kinds if kind not in TWEET_KINDS]
    after: GroupPosition | None = None
    while multi:
        positions = await group_positions(
            redis, keys, user_id, multi, count=SCAN_BATCH, after=after
        )
        floor = lo_ms
        if not oldest_first and len(found) >= count:
            # Groups older than the page's oldest candidate cannot make it.
            kept = sorted(found, key=notification_key, reverse=True)[:count]
            floor = max(floor or 0, kept[-1].at_ms)
        wanted = [p for p in positions if floor is None or p.latest_at_ms >= floor]
        async with redis.pipeline(transaction=False) as pipe:
            queued = [
                _queue_window(
                    pipe,
                    actors_key(keys, p.kind, p.target_id, user_id),
                    lo_ms,
                    hi_ms,
                    count,
                    oldest_first,
                )
                for p in wanted
            ]
            rows = iter(await pipe.execute())
        for position, n in zip(wanted, queued, strict=True):
            for _ in range(n):
                found += [
                    Notification(
                        position.kind, user_id, position.target_id, int(as_text(m)), int(score)
                    )
                    for m, score in next(rows)
                ]
        found = _bounded(found, above, below, count, oldest_first)
        if len(wanted) < len(positions) or len(positions) < SCAN_BATCH:
            break
        after = positions[-1]
    return _bounded(found, above, below, count, oldest_first)


def _bounded(
    found: list[Notification],
    above: NotificationKey | None,
    below: NotificationKey | None,
    count: int,
    oldest_first: bool,
) -> list[Notification]:
    """The distinct notifications strictly between the bounds, the `count` first in order."""
    inside = {
        notification_key(n): n
        for n in found
        if (above is None or notification_key(n) > above)
        and (below is None or notification_key(n) < below)
    }
    ordered = sorted(inside, reverse=not oldest_first)[:count]
    return [inside[key] for key in ordered]


async def notification_time(
    redis: RedisClient, keys: Namespace, user_id: int, kind: str, target_id: int, actor_id: int
) -> int | None:
    """When `actor_id` did `kind` about `target_id` to the user, if that notification is
    (still) there."""
    score = await redis.zscore(actors_key(keys, kind, target_id, user_id), actor_id)
    return int(score) if score is not None else None


@dataclass(frozen=True, slots=True)
class GroupDetail:
    """A group with its newest actors' times and its oldest actor (for the grouped API)."""

    position: GroupPosition
    count: int
    newest: tuple[tuple[int, int], ...]  # (actor, time), newest first
    oldest: tuple[int, int]


async def group_details(
    redis: RedisClient,
    keys: Namespace,
    user_id: int,
    positions: Sequence[GroupPosition],
    *,
    sample: int,
) -> list[GroupDetail]:
    """Each group's count, `sample` newest actors and oldest actor, in one round trip; a
    group emptied meanwhile is left out."""
    async with redis.pipeline(transaction=False) as pipe:
        for position in positions:
            key = actors_key(keys, position.kind, position.target_id, user_id)
            pipe.zcard(key)
            pipe.zrevrange(key, 0, sample - 1, withscores=True)
            pipe.zrange(key, 0, 0, withscores=True)
        rows = await pipe.execute()
    details: list[GroupDetail] = []
    for index, position in enumerate(positions):
        count, newest, oldest = rows[3 * index : 3 * index + 3]
        if not count or not oldest:
            continue
        details.append(
            GroupDetail(
                position,
                int(count),
                tuple((int(as_text(m)), int(s)) for m, s in newest),
                (int(as_text(oldest[0][0])), int(oldest[0][1])),
            )
        )
    return details
