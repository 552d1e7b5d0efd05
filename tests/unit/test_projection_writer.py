"""Which partitions of a batch the projection writer holds back: none is applied past a hole."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from projections.base import Namespace
from projections.likes import LikesProjection
from projections.lua import LuaScript, ScriptCall
from projections.writer import Target, bounded_groups, missing_before, skips_one, unapplied
from schemas.log import LoggedEvent, Position

LIKES = "chirp.likes"


def batch(*offsets: tuple[int, int]) -> list[LoggedEvent]:
    """Records of (partition, offset), in the order they came; contents do not matter here."""
    return [LoggedEvent(Position(LIKES, partition, offset), None) for partition, offset in offsets]


def serving(applied: dict[int, int], gate: dict[str, int] | None = None) -> Target:
    positions = {
        Position(LIKES, partition, 0).field: offset for partition, offset in applied.items()
    }
    return Target(LikesProjection(), Namespace("likes", 1), positions, gate)


def test_a_partition_read_on_from_where_it_stopped_is_applied() -> None:
    assert missing_before([serving({0: 9})], batch((0, 10), (0, 11), (0, 12))) == {}


def test_records_already_applied_coming_again_are_no_hole() -> None:
    records = batch((0, 8), (0, 9), (0, 10), (0, 9), (0, 10), (0, 11))
    assert missing_before([serving({0: 9})], records) == {}


def test_a_partition_starting_past_what_is_needed_is_read_again_from_there() -> None:
    assert missing_before([serving({0: 9, 1: 4})], batch((0, 12), (1, 5))) == {f"{LIKES}:0": 10}


def test_a_jump_in_the_middle_of_a_batch_holds_the_whole_partition_back() -> None:
    """Records fetched before a seek, then after it: applying the first ones and going on
    after the jump would leave offsets 13 to 19 out for good."""
    records = batch((0, 10), (1, 5), (0, 11), (0, 12), (0, 20), (0, 21), (1, 6))
    assert missing_before([serving({0: 9, 1: 4})], records) == {f"{LIKES}:0": 10}


def test_the_lowest_need_of_the_serving_versions_wins_and_a_gated_building_one_is_ignored() -> None:
    targets = [serving({0: 9}), serving({0: 5}), serving({}, gate={f"{LIKES}:0": 100})]
    assert missing_before(targets, batch((0, 8), (0, 9), (0, 10))) == {f"{LIKES}:0": 6}


@given(
    needed=st.integers(min_value=0, max_value=50),
    offsets=st.lists(st.integers(min_value=0, max_value=60), max_size=30),
)
def test_a_batch_without_a_hole_applies_every_offset_from_the_needed_one_up(
    needed: int, offsets: list[int]
) -> None:
    """Whatever order records come in, a partition that passes applies a contiguous run."""
    target = serving({0: needed - 1})
    records = batch(*((0, offset) for offset in offsets))
    if skips_one(needed, offsets):
        assert missing_before([target], records) == {f"{LIKES}:0": needed}
        return
    _, advanced = unapplied(target, records)
    last = advanced.get(f"{LIKES}:0", needed - 1)
    assert set(range(needed, last + 1)) <= set(offsets)


DELIVER = LuaScript("projections.home_timelines", "deliver_tweets.lua")


def call_with(keys: int) -> ScriptCall:
    return (DELIVER, [f"k{i}" for i in range(keys)], [800])


@given(st.lists(st.integers(min_value=0, max_value=120), max_size=40), st.integers(1, 300))
def test_fan_out_calls_are_sent_in_order_in_groups_of_bounded_keys(
    sizes: list[int], max_keys: int
) -> None:
    calls = [call_with(size) for size in sizes]
    groups = bounded_groups(calls, max_keys)
    assert [call for group in groups for call in group] == calls
    for group in groups:
        assert group, "no group is empty"
        assert len(group) == 1 or sum(len(keys) for _, keys, _ in group) <= max_keys


def test_a_group_is_closed_only_when_the_next_call_would_overflow_it() -> None:
    sizes = [len(group) for group in bounded_groups([call_with(5)] * 10, 20)]
    assert sizes == [4, 4, 2]
