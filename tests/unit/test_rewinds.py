"""When the projection agent checks for lost data: only while it is truly idle."""

from __future__ import annotations

import pytest

from streams import agents
from streams.agents import IDLE_BEFORE_CHECK_S, Rewinds


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(agents.time, "monotonic", clock)
    return clock


def test_a_batch_still_being_applied_is_not_idleness_however_long_it_takes(clock: Clock) -> None:
    rewinds = Rewinds()
    rewinds.arrived()
    clock.now += 10 * IDLE_BEFORE_CHECK_S
    assert not rewinds.idle()


def test_idleness_counts_from_the_end_of_the_last_batch(clock: Clock) -> None:
    rewinds = Rewinds()
    rewinds.arrived()
    clock.now += 10 * IDLE_BEFORE_CHECK_S
    rewinds.done()
    clock.now += IDLE_BEFORE_CHECK_S / 2
    assert not rewinds.idle()
    clock.now += IDLE_BEFORE_CHECK_S
    assert rewinds.idle()
