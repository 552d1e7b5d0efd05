"""Each Redis Cluster node's copy of the positions pulls them back when that node lost data;
pure functions, no server."""

from __future__ import annotations

from projections.base import Namespace
from projections.node_positions import copy_field, lowest, owner_of

HOME = Namespace("home_timelines", 2)


def test_without_copies_the_positions_stand() -> None:
    assert lowest(owner_of(HOME), {"chirp.tweets:0": 41}, []) == {"chirp.tweets:0": 41}


def test_a_node_that_went_back_in_time_pulls_the_positions_back() -> None:
    positions = {"chirp.tweets:0": 41, "chirp.tweets:1": 17}
    whole = {
        copy_field(owner_of(HOME), "chirp.tweets:0"): 41,
        copy_field(owner_of(HOME), "chirp.tweets:1"): 17,
    }
    older = {
        copy_field(owner_of(HOME), "chirp.tweets:0"): 30,
        copy_field(owner_of(HOME), "chirp.tweets:1"): 17,
    }
    assert lowest(owner_of(HOME), positions, [whole, older, whole]) == {
        "chirp.tweets:0": 30,
        "chirp.tweets:1": 17,
    }


def test_a_wiped_node_means_nothing_is_applied_for_certain() -> None:
    positions = {"chirp.tweets:0": 41}
    whole = {copy_field(owner_of(HOME), "chirp.tweets:0"): 41}
    assert lowest(owner_of(HOME), positions, [whole, {}]) == {"chirp.tweets:0": -1}


def test_copies_of_other_versions_say_nothing_of_this_one() -> None:
    positions = {"chirp.tweets:0": 41}
    other_version = {copy_field(owner_of(Namespace("home_timelines", 1)), "chirp.tweets:0"): 41}
    assert lowest(owner_of(HOME), positions, [other_version]) == {"chirp.tweets:0": -1}
    ahead = {
        copy_field(owner_of(HOME), "chirp.tweets:0"): 50
    }  # raised before a positions hash came back
    assert lowest(owner_of(HOME), positions, [ahead]) == {"chirp.tweets:0": 41}
