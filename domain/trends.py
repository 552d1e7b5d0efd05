"""Trending hashtags: hopping windows by event time, and a score that favours what is rising.

Windows are `size` long and start every `step` (both in milliseconds, `size` a multiple of
`step`); a tweet created at `t` counts in every window whose span [start, start + size)
holds `t`. Counting by the tweet's own time (not when it was processed) makes a replay of
the log give identical windows.

Score of a tag in the current window: how far its count stands above its recent baseline,
in units of the baseline's natural spread,

    score = (count - baseline) / sqrt(baseline + 1)

where `baseline` is the mean count of the tag over the non-overlapping windows of the
preceding hour (`baseline_span`). A tag that jumps from 0 to 30 scores 30; one that holds
steady at 200 scores 0; one that doubles from 100 to 200 scores about 10. Ties are broken by
count, then by tag.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HoppingWindows:
    size_ms: int
    step_ms: int
    baseline_span_ms: int

    def __post_init__(self) -> None:
        if self.step_ms <= 0 or self.size_ms <= 0 or self.size_ms % self.step_ms:
            raise ValueError("window size must be a positive multiple of the step")

    def starts_containing(self, event_ms: int) -> list[int]:
        """Starts of every window that holds an event at `event_ms`, newest first."""
        newest = event_ms - event_ms % self.step_ms
        return [newest - k * self.step_ms for k in range(self.size_ms // self.step_ms)]

    def current_start(self, as_of_ms: int) -> int:
        """The window that ends with the step holding `as_of_ms`: the latest full span."""
        return self.starts_containing(as_of_ms)[-1]

    def baseline_starts(self, current_start: int) -> list[int]:
        """The non-overlapping windows of the baseline span, just before the current one."""
        count = max(1, self.baseline_span_ms // self.size_ms)
        return [current_start - k * self.size_ms for k in range(1, count + 1)]


@dataclass(frozen=True, slots=True)
class Trend:
    hashtag: str
    count: int
    score: float


def rising_score(count: int, baseline: float) -> float:
    return (count - baseline) / math.sqrt(baseline + 1.0)


def rank_trends(
    current: Mapping[str, int], history: Iterable[Mapping[str, int]], *, history_windows: int
) -> list[Trend]:
    """Tags of the current window ranked by rising score (see the module docstring)."""
    totals: dict[str, int] = {}
    for window in history:
        for tag, count in window.items():
            totals[tag] = totals.get(tag, 0) + count
    trends = [
        Trend(tag, count, round(rising_score(count, totals.get(tag, 0) / history_windows), 4))
        for tag, count in current.items()
        if count > 0
    ]
    return sorted(trends, key=lambda t: (-t.score, -t.count, t.hashtag))
