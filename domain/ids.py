"""64-bit, time-ordered ids that stay unique across processes.

Layout (most significant first): 1 sign bit (always 0), 41 bits of milliseconds since
`EPOCH_MS` (about 69 years), 10 bits of node id, 12 bits of sequence. One node makes up to
4,096 ids per millisecond; up to 1,024 processes (API workers, loaders) run side by side,
each holding its own node id. Ids sort by creation time across nodes to the millisecond.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from domain.clock import now_ms
from domain.errors import ClockMovedBackwards

EPOCH_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
NODE_BITS = 10
SEQUENCE_BITS = 12
MAX_NODE_ID = (1 << NODE_BITS) - 1
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1
TIMESTAMP_SHIFT = NODE_BITS + SEQUENCE_BITS
MAX_BACKWARDS_MS = 5_000
ID_DIGITS = 19  # decimal digits of the largest 63-bit id
MAX_ID = (1 << 63) - 1  # ids are signed 64-bit integers (Avro longs), and positive

Clock = Callable[[], int]


class IdGenerator:
    """Makes ids for one node; thread-safe. Waits out small backward clock steps."""

    def __init__(self, node_id: int, clock: Clock = now_ms) -> None:
        if not 0 <= node_id <= MAX_NODE_ID:
            raise ValueError(f"node id must be within 0..{MAX_NODE_ID}, got {node_id}")
        self.node_id = node_id
        self._clock = clock
        self._last_ms = -1
        self._sequence = 0
        self._lock = threading.Lock()

    def next_id(self) -> int:
        with self._lock:
            now = self._clock()
            if now < self._last_ms:
                if self._last_ms - now > MAX_BACKWARDS_MS:
                    raise ClockMovedBackwards(f"clock moved back {self._last_ms - now} ms")
                now = self._last_ms  # keep issuing from the last millisecond we used
            if now == self._last_ms:
                self._sequence = (self._sequence + 1) & MAX_SEQUENCE
                if self._sequence == 0:  # this millisecond is used up
                    now = self._wait_past(self._last_ms)
            else:
                self._sequence = 0
            self._last_ms = now
            return (
                ((now - EPOCH_MS) << TIMESTAMP_SHIFT)
                | (self.node_id << SEQUENCE_BITS)
                | self._sequence
            )

    def _wait_past(self, last_ms: int) -> int:
        while (now := self._clock()) <= last_ms:
            time.sleep(0.0001)
        return now


def id_timestamp_ms(entity_id: int) -> int:
    """The Unix time in milliseconds at which an id was made."""
    return (entity_id >> TIMESTAMP_SHIFT) + EPOCH_MS


def id_node(entity_id: int) -> int:
    return (entity_id >> SEQUENCE_BITS) & MAX_NODE_ID


def sortable_id(entity_id: int) -> str:
    """The id as fixed-width decimal, so that string order equals numeric order."""
    return str(entity_id).zfill(ID_DIGITS)


def parse_id(text: str) -> int | None:
    """An id from its decimal text, or None if the text is not a valid id."""
    if not text.isascii() or not text.isdigit() or len(text) > ID_DIGITS:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def made_lately(entity_id: int, *, now_ms: int, within_ms: int) -> bool:
    """Whether an id was made within `within_ms` of `now_ms`, on either side: the clocks of
    the processes that make ids differ a little."""
    return abs(now_ms - id_timestamp_ms(entity_id)) <= within_ms
