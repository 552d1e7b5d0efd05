"""Every projection Chirp maintains: their names and topic families, and building them."""

from __future__ import annotations

from domain.trends import HoppingWindows
from projections.base import Projection
from projections.bookmarks import BookmarksProjection
from projections.follow_graph import FollowGraphProjection
from projections.home_timelines import FollowerDirectory, HomeTimelinesProjection
from projections.likes import LikesProjection
from projections.lists import ListsProjection
from projections.live import LiveFeedProjection
from projections.media import MediaProjection
from projections.notifications import NotificationsProjection
from projections.trends import TrendsProjection
from projections.tweets import TweetsProjection
from projections.user_timelines import UserTimelinesProjection
from projections.users import UsersProjection

PROJECTION_TYPES: tuple[type[Projection], ...] = (
    UsersProjection,
    TweetsProjection,
    UserTimelinesProjection,
    LikesProjection,
    FollowGraphProjection,
    HomeTimelinesProjection,
    TrendsProjection,
    MediaProjection,
    ListsProjection,
    BookmarksProjection,
    LiveFeedProjection,
    NotificationsProjection,
)

# Projection name -> the topic families it consumes.
PROJECTION_FAMILIES: dict[str, tuple[str, ...]] = {
    kind.name: kind.topic_families for kind in PROJECTION_TYPES
}


def all_projections(
    windows: HoppingWindows, directory: FollowerDirectory | None = None
) -> dict[str, Projection]:
    """Every projection; the worker passes its follower directory for home-timeline pushes."""
    projections: list[Projection] = [
        UsersProjection(),
        TweetsProjection(),
        UserTimelinesProjection(),
        LikesProjection(),
        FollowGraphProjection(),
        HomeTimelinesProjection(directory),
        TrendsProjection(windows),
        MediaProjection(),
        ListsProjection(),
        BookmarksProjection(),
        LiveFeedProjection(),
        NotificationsProjection(),
    ]
    return {projection.name: projection for projection in projections}


def projections_for_family(family: str, projections: dict[str, Projection]) -> list[Projection]:
    return [p for p in projections.values() if family in p.topic_families]
