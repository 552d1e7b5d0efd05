"""Trending hashtags: per hopping window (by event time), how many live tweets carry each tag.

Keys (under `chirp:trends:v{n}:`):
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
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

# ARGV: key prefix, tweet id, "add" | "remove", event ms, n windows, window starts..., tags...
_COUNT = LuaScript("""
local prefix, tweet, op, event_ms = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local windows = tonumber(ARGV[5])
for w = 6, 5 + windows do
  local start = ARGV[w]
  local counts = prefix .. 'counts:' .. start
  for t = 6 + windows, #ARGV do
    local tag = ARGV[t]
    local tagged = prefix .. 'tagged:' .. start .. ':' .. tag
    if op == 'add' then
      redis.call('SADD', tagged, tweet)
    else
      redis.call('SREM', tagged, tweet)
    end
    local count = redis.call('SCARD', tagged)
    if count > 0 then
      redis.call('ZADD', counts, count, tag)
    else
      redis.call('ZREM', counts, tag)
    end
  end
end
if op == 'add' then
  local as_of = tonumber(redis.call('GET', prefix .. 'as_of') or '0')
  if event_ms > as_of then redis.call('SET', prefix .. 'as_of', event_ms) end
end
return 1
""")


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
        args: list[ScriptArg] = [keys.key(""), tweet_id, op, event_ms, len(starts), *starts]
        _COUNT.queue(tx, [], [*args, *hashtags])


async def read_trends(
    redis: Redis, keys: Namespace, windows: HoppingWindows
) -> tuple[int | None, list[Trend]]:
    """The event-time clock and every tag of the current window, ranked."""
    as_of_raw = await redis.get(keys.key("as_of"))
    if as_of_raw is None:
        return None, []
    as_of = int(as_of_raw)
    current_start = windows.current_start(as_of)
    history_starts = windows.baseline_starts(current_start)
    ranked: list[tuple[bytes, float]] = await redis.zrange(  # type: ignore[assignment]
        keys.key("counts", current_start), 0, -1, withscores=True
    )
    current = {as_text(tag): int(count) for tag, count in ranked}
    tags = list(current)
    history: list[dict[str, int]] = []
    if tags:
        async with redis.pipeline(transaction=False) as pipe:
            for start in history_starts:
                pipe.zmscore(keys.key("counts", start), tags)
            rows = await pipe.execute()
        history = [
            {tag: int(count) for tag, count in zip(tags, row, strict=True) if count is not None}
            for row in rows
        ]
    return as_of, rank_trends(current, history, history_windows=len(history_starts))
