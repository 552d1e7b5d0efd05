import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ClockMovedBackwards
from domain.ids import (
    EPOCH_MS,
    MAX_NODE_ID,
    IdGenerator,
    id_node,
    id_timestamp_ms,
    made_lately,
    parse_id,
    sortable_id,
)


class FakeClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def test_ids_carry_time_and_node() -> None:
    clock = FakeClock(EPOCH_MS + 123_456)
    new_id = IdGenerator(node_id=7, clock=clock).next_id()
    assert id_timestamp_ms(new_id) == clock.now
    assert id_node(new_id) == 7
    assert 0 < new_id < 2**63


def test_ids_from_two_nodes_never_collide_in_the_same_millisecond() -> None:
    clock = FakeClock(EPOCH_MS + 1)
    first, second = IdGenerator(1, clock), IdGenerator(2, clock)
    ids = [first.next_id() for _ in range(1000)] + [second.next_id() for _ in range(1000)]
    assert len(set(ids)) == 2000


def test_sequence_exhaustion_moves_to_the_next_millisecond() -> None:
    ticks = iter(range(EPOCH_MS + 10, EPOCH_MS + 10_000))
    start = EPOCH_MS + 10
    calls = {"n": 0}

    def clock() -> int:
        calls["n"] += 1
        return start if calls["n"] <= 4096 else next(ticks)

    generator = IdGenerator(0, clock)
    ids = [generator.next_id() for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == 5000
    assert id_timestamp_ms(ids[-1]) > start


def test_small_backward_clock_step_keeps_ids_increasing() -> None:
    clock = FakeClock(EPOCH_MS + 5_000)
    generator = IdGenerator(3, clock)
    before = generator.next_id()
    clock.now -= 10
    assert generator.next_id() > before


def test_large_backward_clock_step_is_refused() -> None:
    clock = FakeClock(EPOCH_MS + 100_000)
    generator = IdGenerator(3, clock)
    generator.next_id()
    clock.now -= 60_000
    with pytest.raises(ClockMovedBackwards):
        generator.next_id()


def test_node_id_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        IdGenerator(MAX_NODE_ID + 1)


def test_ids_are_unique_across_threads() -> None:
    generator = IdGenerator(9)
    results: list[list[int]] = [[] for _ in range(4)]

    def make(bucket: list[int]) -> None:
        bucket.extend(generator.next_id() for _ in range(5000))

    threads = [threading.Thread(target=make, args=(bucket,)) for bucket in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({i for bucket in results for i in bucket}) == 20_000


@given(st.integers(min_value=1, max_value=2**63 - 1), st.integers(min_value=1, max_value=2**63 - 1))
def test_sortable_ids_sort_like_numbers(a: int, b: int) -> None:
    assert (sortable_id(a) < sortable_id(b)) == (a < b)
    assert parse_id(sortable_id(a)) == a


@pytest.mark.parametrize("text", ["", "abc", "-1", "0", "9" * 20, "\uff11\uff12\uff13", str(2**63)])
def test_parse_id_rejects_non_ids(text: str) -> None:
    assert parse_id(text) is None


def test_an_id_is_made_lately_within_the_window_on_either_side_of_now() -> None:
    made_at = EPOCH_MS + 1_000_000
    new_id = IdGenerator(7, FakeClock(made_at)).next_id()

    assert made_lately(new_id, now_ms=made_at + 5_000, within_ms=5_000)
    assert made_lately(new_id, now_ms=made_at - 5_000, within_ms=5_000)  # a clock behind ours
    assert not made_lately(new_id, now_ms=made_at + 5_001, within_ms=5_000)
    assert not made_lately(new_id, now_ms=made_at - 5_001, within_ms=5_000)
