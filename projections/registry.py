"""Every projection Chirp maintains, by name."""

from __future__ import annotations

from projections.base import Projection
from projections.follow_graph import FollowGraphProjection
from projections.home_timelines import FollowerDirectory, HomeTimelinesProjection
from projections.likes import LikesProjection
from projections.tweets import TweetsProjection
from projections.user_timelines import UserTimelinesProjection
from projections.users import UsersProjection


def all_projections(directory: FollowerDirectory | None = None) -> dict[str, Projection]:
    """Every projection; the worker passes its follower directory for home-timeline pushes."""
    projections: list[Projection] = [
        UsersProjection(),
        TweetsProjection(),
        UserTimelinesProjection(),
        LikesProjection(),
        FollowGraphProjection(),
        HomeTimelinesProjection(directory),
    ]
    return {projection.name: projection for projection in projections}


PROJECTIONS: dict[str, Projection] = all_projections()


def projections_for_family(
    family: str, projections: dict[str, Projection] | None = None
) -> list[Projection]:
    chosen = PROJECTIONS if projections is None else projections
    return [p for p in chosen.values() if family in p.topic_families]
