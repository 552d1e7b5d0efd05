import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.trends import HoppingWindows, rank_trends, rising_score

MINUTE = 60_000
WINDOWS = HoppingWindows(size_ms=5 * MINUTE, step_ms=MINUTE, baseline_span_ms=60 * MINUTE)


@given(st.integers(min_value=0, max_value=2**42))
def test_an_event_lands_in_every_window_that_spans_it(event_ms: int) -> None:
    starts = WINDOWS.starts_containing(event_ms)
    assert len(starts) == 5 and starts == sorted(starts, reverse=True)
    assert all(start <= event_ms < start + WINDOWS.size_ms for start in starts)
    assert all(start % WINDOWS.step_ms == 0 for start in starts)


def test_baseline_windows_tile_the_previous_hour() -> None:
    starts = WINDOWS.baseline_starts(100 * MINUTE)
    assert starts == [100 * MINUTE - k * 5 * MINUTE for k in range(1, 13)]


def test_window_size_must_be_a_multiple_of_the_step() -> None:
    with pytest.raises(ValueError):
        HoppingWindows(size_ms=5 * MINUTE, step_ms=2 * MINUTE, baseline_span_ms=MINUTE)


def test_a_spike_outranks_a_steadily_bigger_tag() -> None:
    history = [{"steady": 200} for _ in range(12)]
    ranked = rank_trends({"steady": 200, "spike": 30}, history, history_windows=12)
    assert [t.hashtag for t in ranked] == ["spike", "steady"]
    assert ranked[0].score == pytest.approx(30.0)
    assert ranked[1].score == pytest.approx(0.0)


def test_score_grows_with_the_rise_over_baseline() -> None:
    assert rising_score(200, 100) > rising_score(150, 100) > rising_score(100, 100) == 0


def test_ties_break_by_count_then_name() -> None:
    ranked = rank_trends({"b": 3, "a": 3, "c": 5}, [], history_windows=12)
    assert [t.hashtag for t in ranked] == ["c", "a", "b"]


def test_the_current_window_is_the_latest_full_span_up_to_the_clock() -> None:
    as_of = 100 * MINUTE + 30_000
    start = WINDOWS.current_start(as_of)
    assert start == 96 * MINUTE and start + WINDOWS.size_ms == 101 * MINUTE
