"""Trending hashtags: per hopping window (by event time), how many live tweets carry each tag.

Keys (under `chirp:trends:v{n}:{trends}:`, all in one slot):
- `tagged:{window start}:{hashtag}` -> set of tweet ids carrying the tag in that window.
- `counts:{window start}` -> sorted set hashtag -> count, always the size of the set above,
  so adding a tweet twice or deleting it twice leaves the same counts (idempotent).
- `as_of` -> the newest tweet time seen (ms): the event-time clock trends are read at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from domain.events import Event, TweetDeleted, TweetPosted
from domain.trends import HoppingWindows, Trend, rank_trends
from projections.base import Namespace, as_text
from projections.lua import LuaScript, ScriptArg

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

    from projections.redis_client import RedisClient

# KEYS: as_of, then counts per window, then tagged per window and tag (window-major)
# ARGV: tweet id, "add" | "remove", event ms, window count, tag count
_COUNT = LuaScript("projections.scripts", "trends_count.lua")

SLOT = "trends"  # a projection small enough for one slot: every key of a version shares it


def as_of_key(keys: Namespace) -> str:
    return keys.in_slot(SLOT, "as_of")


def counts_key(keys: Namespace, window_start: int) -> str:
    return keys.in_slot(SLOT, "counts", window_start)


class TrendsProjection:
    name: ClassVar[str] = "trends"
    topic_families: ClassVar[tuple[str, ...]] = ("tweets",)

    def __init__(self, windows: HoppingWindows) -> None:
        self.windows = windows

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        match event:
            case TweetPosted() if event.hashtags:
                self._count(keys, tx, event.tweet_id, "add", event.created_at_ms, event.hashtags)
            case TweetDeleted() if event.hashtags:
                self._count(keys, tx, event.tweet_id, "remove", event.created_at_ms, event.hashtags)

    def _count(
        self,
        keys: Namespace,
        tx: Pipeline,
        tweet_id: int,
        op: str,
        event_ms: int,
        hashtags: tuple[str, ...],
    ) -> None:
        starts = self.windows.starts_containing(event_ms)
        script_keys = [
            as_of_key(keys),
            *(counts_key(keys, start) for start in starts),
            *(keys.in_slot(SLOT, "tagged", start, tag) for start in starts for tag in hashtags),
        ]
        args: list[ScriptArg] = [tweet_id, op, event_ms, len(starts), len(hashtags), *hashtags]
        _COUNT.queue(tx, script_keys, args)


async def read_trends(
    redis: RedisClient, keys: Namespace, windows: HoppingWindows
) -> tuple[int | None, list[Trend]]:
    """The event-time clock and every tag of the current window, ranked."""
    as_of_raw = await redis.get(as_of_key(keys))
    if as_of_raw is None:
        return None, []
    as_of = int(as_of_raw)
    current_start = windows.current_start(as_of)
    history_starts = windows.baseline_starts(current_start)
    ranked: list[tuple[bytes, float]] = await redis.zrange(  # type: ignore[assignment]
        counts_key(keys, current_start), 0, -1, withscores=True
    )
    current = {as_text(tag): int(count) for tag, count in ranked}
    tags = list(current)
    history: list[dict[str, int]] = []
    if tags:
        async with redis.pipeline(transaction=False) as pipe:
            for start in history_starts:
                pipe.zmscore(counts_key(keys, start), tags)
            rows = await pipe.execute()
        history = [
            {tag: int(count) for tag, count in zip(tags, row, strict=True) if count is not None}
            for row in rows
        ]
    return as_of, rank_trends(current, history, history_windows=len(history_starts))
