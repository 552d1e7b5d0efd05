"""Every projection Chirp maintains, by name."""

from __future__ import annotations

from projections.base import Projection
from projections.tweets import TweetsProjection
from projections.user_timelines import UserTimelinesProjection
from projections.users import UsersProjection

PROJECTIONS: dict[str, Projection] = {
    projection.name: projection
    for projection in (UsersProjection(), TweetsProjection(), UserTimelinesProjection())
}


def projections_for_family(family: str) -> list[Projection]:
    return [p for p in PROJECTIONS.values() if family in p.topic_families]
