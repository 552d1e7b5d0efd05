"""Reading a home timeline: the stored entries, rebuilt when missing, merged with celebrities.

Phase 1 is one script in the reader's shard slot (page, celebrities followed, holds); when
the reader follows celebrities, their latest entries come in one more pipeline. A missing
timeline is rebuilt from the people followed (up to `FOLLOW_BACKFILL` entries each) and stored
unless a follow is in flight. The result is entries, ready for hydration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.ids import sortable_id
from projections.base import Namespace
from projections.entries import TimelineEntry, before_bound, earliest_per_original
from projections.follow_graph import following_key
from projections.home_timelines.keys import DEFAULT_SHARDS, HomeKeys
from projections.home_timelines.projection import DEFAULT_CAP
from projections.lua import LuaScript, ScriptArg
from projections.user_timelines import timeline_page_command

FOLLOW_BACKFILL = 100

_PAGE = LuaScript("projections.home_timelines", "page.lua")
_STORE = LuaScript("projections.home_timelines", "store.lua")


@dataclass(frozen=True, slots=True)
class HomeSources:
    """The namespaces a home timeline read draws on."""

    home: Namespace
    follow_graph: Namespace
    user_timelines: Namespace


@dataclass(frozen=True, slots=True)
class HomeReadOptions:
    inactive_s: int
    cap: int = DEFAULT_CAP
    shards: int = DEFAULT_SHARDS


async def read_home(
    redis: Any,
    sources: HomeSources,
    reader: int,
    *,
    before: int | None,
    count: int,
    options: HomeReadOptions,
    on_read: Callable[[bool], None] | None = None,
) -> list[TimelineEntry]:
    """Up to `count` entries older than `before`, newest first, each original once.

    `on_read` is told whether the timeline had to be rebuilt (missing) or was stored (a hit).
    """
    home = HomeKeys(sources.home, options.shards)
    stored, members, celebrity_ids, holds = await _PAGE.run(
        redis,
        [home.home(reader), home.orig(reader), home.celebs(reader), home.holds(reader)],
        [options.inactive_s, before_bound(before), count],
    )
    celebrities = [int(c) for c in celebrity_ids]
    if on_read is not None:
        on_read(not stored)
    if stored:
        entries = [TimelineEntry.parse(m) for m in members]
        if celebrities:
            entries += await _latest_of(redis, sources, celebrities, count=count, before=before)
        return earliest_per_original(entries)[:count]
    rebuilt = await _rebuild(
        redis, sources, reader, celebrities, store=not holds, home=home, options=options
    )
    page = [e for e in rebuilt if before is None or e.entry_id < before]
    if celebrities:
        page += await _latest_of(redis, sources, celebrities, count=count, before=before)
    return earliest_per_original(page)[:count]


async def _latest_of(
    redis: Any, sources: HomeSources, users: list[int], *, count: int, before: int | None
) -> list[TimelineEntry]:
    async with redis.pipeline(transaction=False) as pipe:
        for user in users:
            timeline_page_command(pipe, sources.user_timelines, user, count=count, before=before)
        rows = await pipe.execute()
    return [TimelineEntry.parse(member) for row in rows for member in row]


async def _rebuild(
    redis: Any,
    sources: HomeSources,
    reader: int,
    celebrities: list[int],
    *,
    store: bool,
    home: HomeKeys,
    options: HomeReadOptions,
) -> list[TimelineEntry]:
    """The timeline from the people followed (celebrities aside), stored if allowed."""
    followed = await redis.zrange(following_key(sources.follow_graph, reader), 0, -1)
    skip = {sortable_id(c) for c in celebrities}
    sources_ids = [reader, *(int(f) for f in followed if f.decode() not in skip)]
    entries = await _latest_of(redis, sources, sources_ids, count=FOLLOW_BACKFILL, before=None)
    rebuilt = earliest_per_original(entries)[: options.cap]
    if store and rebuilt:
        args: list[ScriptArg] = [options.inactive_s]
        for entry in rebuilt:
            args += [entry.member, entry.original_id if entry.is_retweet else ""]
        await _STORE.run(redis, [home.home(reader), home.orig(reader), home.holds(reader)], args)
    return rebuilt
