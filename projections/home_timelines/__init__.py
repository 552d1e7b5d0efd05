"""Home timelines: hybrid fan-out on write, rebuild and celebrity merge on read.

The only owner of home-timeline keys: the projection (pushes and drops), the follow
bookkeeping the worker calls (`after_follows`, and `restore_celebrities` when Redis lost the
celebrity sets), the hold the follow use case takes
(`hold_for_follow`) and the read path (`read_home`).
"""

from projections.home_timelines.celebrities import celebrity_marks, restore_celebrities
from projections.home_timelines.keys import DEFAULT_SHARDS, HomeKeys
from projections.home_timelines.projection import (
    DEFAULT_CAP,
    FollowerDirectory,
    HomeTimelinesProjection,
    NoFollowers,
    after_follows,
    hold_for_follow,
)
from projections.home_timelines.read import HomeReadOptions, HomeSources, read_home

__all__ = [
    "DEFAULT_CAP",
    "DEFAULT_SHARDS",
    "FollowerDirectory",
    "HomeKeys",
    "HomeReadOptions",
    "HomeSources",
    "HomeTimelinesProjection",
    "NoFollowers",
    "after_follows",
    "celebrity_marks",
    "hold_for_follow",
    "read_home",
    "restore_celebrities",
]
