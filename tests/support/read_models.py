"""Where a test finds a projection's keys: the serving version's namespace, read in Redis."""

from __future__ import annotations

from typing import Any

from projections.base import POINTERS_KEY, Namespace, building_field, serving_field
from projections.home_timelines import HomeKeys


def serving_namespace(redis: Any, projection: str) -> Namespace:
    """The namespace of the version that serves `projection` (a sync Redis client)."""
    return Namespace(projection, int(redis.hget(POINTERS_KEY, serving_field(projection)) or 1))


def building_version(redis: Any, projection: str) -> int | None:
    raw = redis.hget(POINTERS_KEY, building_field(projection))
    return int(raw) if raw is not None else None


def serving_home_keys(redis: Any) -> HomeKeys:
    return HomeKeys(serving_namespace(redis, "home_timelines"))


def home_members(redis: Any, user_id: int | str) -> list[str]:
    """The original tweet ids in a user's stored home timeline, newest entry first."""
    from projections.entries import TimelineEntry

    home = serving_home_keys(redis)
    members = redis.zrevrange(home.home(int(user_id)), 0, -1)
    return [str(TimelineEntry.parse(m).original_id) for m in members]
