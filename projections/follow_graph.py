"""The follow graph as served to clients: followers and following lists and their counts.

Keys (under `chirp:follow_graph:v{n}:`, hash-tagged by user): `following:{user}` and
`followers:{user}` -> sorted sets of user ids (score 0, fixed-width members, one member per
edge). The worker's own copy of the graph, partitioned by followee for fan-out, is a RocksDB
table (`streams.follow_graph`).

Popularity, for who-to-follow (`{popular<s>}` tags: `POPULARITY_SHARDS` slots, a user's shard
from a hash of its id): `{popular<s>}:counts` -> sorted set user id -> follower count, and
`{popular<s>}:edges` -> set of edges (followee + follower ids) that guards the counts, so an
event applied twice moves no count (`follow_graph_popularity.lua`). Read as one pipeline over
the shards: the most-followed accounts, and the follower count of any account.
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from domain.events import Event, UserFollowed, UserUnfollowed
from domain.ids import sortable_id
from projections.base import Namespace
from projections.lua import LuaScript

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

    from projections.redis_client import RedisClient


POPULARITY_SHARDS = 16
# Who-to-follow reads at most SUGGESTION_FOLLOWEES of the reader's followees and, for each,
# at most SUGGESTION_EDGES_PER_FOLLOWEE of theirs: N * M = 20,000 edges per request, however
# many the reader follows (a random sample of each set when it is larger, else all of it).
SUGGESTION_FOLLOWEES = 200
SUGGESTION_EDGES_PER_FOLLOWEE = 100

# KEYS: edges, counts (a popularity shard)  ARGV: edge, followee member, 1 | -1
_POPULARITY = LuaScript("projections.scripts", "follow_graph_popularity.lua")


def following_key(keys: Namespace, user_id: int) -> str:
    return keys.of("following", user_id)


def followers_key(keys: Namespace, user_id: int) -> str:
    return keys.of("followers", user_id)


def popularity_shard(user_id: int) -> int:
    return zlib.crc32(sortable_id(user_id).encode()) % POPULARITY_SHARDS


def popularity_counts_key(keys: Namespace, shard: int) -> str:
    return keys.in_slot(f"popular{shard}", "counts")


def popularity_edges_key(keys: Namespace, shard: int) -> str:
    return keys.in_slot(f"popular{shard}", "edges")


def _count_follower(tx: Pipeline, keys: Namespace, event: UserFollowed | UserUnfollowed) -> None:
    shard = popularity_shard(event.followee_id)
    followee = sortable_id(event.followee_id)
    _POPULARITY.queue(
        tx,
        [popularity_edges_key(keys, shard), popularity_counts_key(keys, shard)],
        [
            followee + sortable_id(event.follower_id),
            followee,
            1 if isinstance(event, UserFollowed) else -1,
        ],
    )


class FollowGraphProjection:
    name: ClassVar[str] = "follow_graph"
    topic_families: ClassVar[tuple[str, ...]] = ("follows",)

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        match event:
            case UserFollowed():
                tx.zadd(following_key(keys, event.follower_id), {sortable_id(event.followee_id): 0})
                tx.zadd(followers_key(keys, event.followee_id), {sortable_id(event.follower_id): 0})
                _count_follower(tx, keys, event)
            case UserUnfollowed():
                tx.zrem(following_key(keys, event.follower_id), sortable_id(event.followee_id))
                tx.zrem(followers_key(keys, event.followee_id), sortable_id(event.follower_id))
                _count_follower(tx, keys, event)


async def user_page(
    redis: RedisClient, key: str, *, limit: int, after: int | None
) -> tuple[list[int], int | None]:
    """A page of user ids from one of the graph's sorted sets, in id order."""
    lower = f"({sortable_id(after)}" if after is not None else "-"
    members = await redis.zrangebylex(key, lower, "+", 0, limit + 1)
    ids = [int(member) for member in members]
    if len(ids) > limit:
        return ids[:limit], ids[limit - 1]
    return ids, None


async def graph_counts(redis: RedisClient, keys: Namespace, user_id: int) -> tuple[int, int]:
    """(followers_count, following_count)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zcard(followers_key(keys, user_id))
        pipe.zcard(following_key(keys, user_id))
        followers, following = await pipe.execute()
    return int(followers), int(following)


async def is_following(
    redis: RedisClient, keys: Namespace, follower_id: int, followee_id: int
) -> bool:
    score = await redis.zscore(following_key(keys, follower_id), sortable_id(followee_id))
    return score is not None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An account to follow: how many of the reader's (sampled) followees follow it, and its
    follower count."""

    user_id: int
    followed_by: int
    followers: int


@dataclass(frozen=True, slots=True)
class SuggestionBounds:
    followees: int = SUGGESTION_FOLLOWEES
    per_followee: int = SUGGESTION_EDGES_PER_FOLLOWEE


async def suggestions(
    redis: RedisClient,
    keys: Namespace,
    user_id: int,
    *,
    limit: int,
    bounds: SuggestionBounds = SuggestionBounds(),
) -> list[Suggestion]:
    """Accounts followed by the people `user_id` follows, ranked by how many of them follow
    each (then by follower count, then oldest id first), never the reader or anyone the reader
    follows; the rest of `limit` filled with the most-followed accounts (all of it for a
    reader who follows nobody). Three round trips; at most `followees * per_followee` edges
    read, whatever the reader follows."""
    sampled: list[bytes] = await redis.zrandmember(  # type: ignore[assignment]
        following_key(keys, user_id), bounds.followees
    )
    followees = [int(member) for member in sampled]
    async with redis.pipeline(transaction=False) as pipe:
        for followee in followees:
            pipe.zrandmember(following_key(keys, followee), bounds.per_followee)
        for shard in range(POPULARITY_SHARDS):
            # The top `2 * limit` of every shard hold the global top `2 * limit`.
            pipe.zrevrange(popularity_counts_key(keys, shard), 0, 2 * limit - 1, withscores=True)
        rows = await pipe.execute()
    mutual: Counter[int] = Counter(int(member) for row in rows[: len(followees)] for member in row)
    popular = sorted(
        ((int(member), int(score)) for row in rows[len(followees) :] for member, score in row),
        key=lambda pair: (-pair[1], pair[0]),
    )[: 2 * limit]
    mutual.pop(user_id, None)
    candidates = sorted((set(mutual) | {member for member, _ in popular}) - {user_id})
    if not candidates:
        return []
    followed, counts = await _followed_and_counts(redis, keys, user_id, candidates)
    ranked = sorted(
        (Suggestion(c, n, counts.get(c, 0)) for c, n in mutual.items() if c not in followed),
        key=lambda s: (-s.followed_by, -s.followers, s.user_id),
    )
    chosen = ranked[:limit]
    seen = {s.user_id for s in chosen} | followed | {user_id}
    for member, followers in popular:
        if len(chosen) >= limit:
            break
        if member not in seen:
            chosen.append(Suggestion(member, 0, followers))
            seen.add(member)
    return chosen


async def _followed_and_counts(
    redis: RedisClient, keys: Namespace, user_id: int, candidates: list[int]
) -> tuple[set[int], dict[int, int]]:
    """Which candidates the reader follows, and each candidate's follower count: one pipeline
    (the reader's slot, and one command per popularity shard)."""
    by_shard: dict[int, list[int]] = {}
    for candidate in candidates:
        by_shard.setdefault(popularity_shard(candidate), []).append(candidate)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zmscore(following_key(keys, user_id), [sortable_id(c) for c in candidates])
        for shard, members in by_shard.items():
            pipe.zmscore(popularity_counts_key(keys, shard), [sortable_id(m) for m in members])
        rows = await pipe.execute()
    followed = {c for c, score in zip(candidates, rows[0], strict=True) if score is not None}
    counts = {
        member: int(score or 0)
        for members, scores in zip(by_shard.values(), rows[1:], strict=True)
        for member, score in zip(members, scores, strict=True)
    }
    return followed, counts


async def whole_graph_of(
    redis: RedisClient, keys: Namespace, user_id: int
) -> tuple[list[int], list[int]]:
    """(everyone the user follows, everyone who follows the user): an erasure undoes both."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zrange(following_key(keys, user_id), 0, -1)
        pipe.zrange(followers_key(keys, user_id), 0, -1)
        following, followers = await pipe.execute()
    return [int(member) for member in following], [int(member) for member in followers]
