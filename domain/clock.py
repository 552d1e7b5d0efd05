"""Wall-clock time in Unix milliseconds, the unit every event carries."""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
