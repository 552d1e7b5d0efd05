"""Offset bookkeeping of the analytics sink: what each table holds, batches, re-deliveries.

The last test replays the sink's protocol (append what a table lacks + record offsets in the
same commit, then acknowledge to Kafka) against a crash at every possible step, with tables as
plain dicts: every outcome must be each event exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from infra.analytics.batch import ConsumedPositions, PendingBatch
from infra.analytics.offsets import (
    offset_property,
    offset_updates,
    recorded_offsets,
    rows_to_append,
)


def row(topic: str, partition: int, offset: int, **extra: Any) -> dict[str, Any]:
    return {"kafka_topic": topic, "kafka_partition": partition, "kafka_offset": offset, **extra}


def test_offsets_round_trip_through_table_properties_even_with_dotted_topic_names() -> None:
    properties = {
        offset_property("chirp.tweets", 3): "120",
        offset_property("chirp.follows.by-followee", 0): "7",
        "commit.retry.num-retries": "0",
        "chirp.sink.offset.garbage": "x",
    }
    assert recorded_offsets(properties) == {
        ("chirp.tweets", 3): 120,
        ("chirp.follows.by-followee", 0): 7,
    }


def test_rows_at_or_after_the_recorded_offset_are_appended_the_rest_dropped() -> None:
    rows = [row("t", 0, 9), row("t", 0, 10), row("t", 0, 11), row("t", 1, 0), row("u", 0, 5)]
    recorded = {("t", 0): 10, ("u", 0): 6}
    assert rows_to_append(rows, recorded) == [row("t", 0, 10), row("t", 0, 11), row("t", 1, 0)]


def test_offset_updates_never_move_backwards_and_touch_only_the_given_partitions() -> None:
    recorded = {("t", 0): 50, ("t", 1): 5}
    batch_next = {("t", 0): 40, ("t", 1): 9, ("t", 2): 3}
    assert offset_updates(recorded, batch_next, [("t", 0), ("t", 1)]) == {
        offset_property("t", 1): "9"
    }


def test_a_batch_tracks_next_offsets_rows_per_table_and_undecodable_records() -> None:
    batch = PendingBatch()
    assert batch.is_empty() and batch.age_s() == 0.0
    batch.add_row("tweet_posted", row("chirp.tweets", 1, 4))
    batch.add_row("tweet_liked", row("chirp.likes", 0, 9))
    batch.add_skipped("chirp.tweets", 1, 5)
    batch.add_row("tweet_posted", row("chirp.tweets", 2, 0))
    assert batch.records == 4 and batch.undecodable == 1 and batch.row_count() == 3
    assert batch.next_offsets == {
        ("chirp.tweets", 1): 6,
        ("chirp.likes", 0): 10,
        ("chirp.tweets", 2): 1,
    }
    assert batch.partitions_of("tweet_posted") == [("chirp.tweets", 1), ("chirp.tweets", 2)]


def test_records_handed_out_again_are_recognised() -> None:
    positions = ConsumedPositions()
    assert [positions.is_new("t", 0, offset) for offset in (0, 1, 2)] == [True, True, True]
    assert positions.is_new("t", 0, 1) is False  # re-delivered after a rebalance
    assert positions.is_new("t", 1, 0) is True
    assert positions.is_new("t", 0, 10) is True  # another member moved the group on


# --- the protocol against crashes ----------------------------------------------------------


@dataclass
class FakeTable:
    rows: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)

    def commit(self, rows: list[dict[str, Any]], props: dict[str, str]) -> None:
        self.rows += rows  # both at once: one metadata swap in Iceberg
        self.properties |= props


class Crash(Exception):
    pass


def run_sink(
    log: dict[int, list[str]],
    tables: dict[str, FakeTable],
    committed: dict[int, int],
    batch_size: int,
    crash_after_steps: int | None,
) -> None:
    """The sink's loop over an in-memory log of partitions; raises `Crash` after N commits."""
    steps = 0

    def step() -> None:
        nonlocal steps
        steps += 1
        if crash_after_steps is not None and steps > crash_after_steps:
            raise Crash

    positions = {p: committed.get(p, 0) for p in log}
    while any(positions[p] < len(records) for p, records in log.items()):
        batch = PendingBatch()
        for p, records in log.items():
            for offset in range(positions[p], min(len(records), positions[p] + batch_size)):
                kind = records[offset]
                if kind == "garbage":
                    batch.add_skipped("t", p, offset)
                else:
                    batch.add_row(kind, row("t", p, offset, event_id=f"{p}/{offset}"))
            positions[p] = batch.next_offsets.get(("t", p), positions[p])
        for name, rows in batch.rows.items():
            table = tables[name]
            recorded = recorded_offsets(table.properties)
            fresh = rows_to_append(rows, recorded)
            if fresh:
                step()
                updates = offset_updates(recorded, batch.next_offsets, batch.partitions_of(name))
                table.commit(fresh, updates)
        step()
        committed.update({p: o for (_, p), o in batch.next_offsets.items()})


kinds = st.sampled_from(["a", "b", "c", "garbage"])


@settings(max_examples=200, deadline=None)
@given(
    log=st.dictionaries(st.integers(0, 3), st.lists(kinds, max_size=30), min_size=1),
    batch_size=st.integers(1, 7),
    crashes=st.lists(st.integers(0, 12), max_size=4),
)
def test_crashing_at_any_step_and_restarting_leaves_every_event_exactly_once(
    log: dict[int, list[str]], batch_size: int, crashes: list[int]
) -> None:
    tables = {kind: FakeTable() for kind in ("a", "b", "c")}
    committed: dict[int, int] = {}
    for crash_after in [*crashes, None]:
        try:
            run_sink(log, tables, committed, batch_size, crash_after)
        except Crash:
            continue
    for kind, table in tables.items():
        ids = [r["event_id"] for r in table.rows]
        expected = [
            f"{p}/{o}" for p, records in log.items() for o, k in enumerate(records) if k == kind
        ]
        assert sorted(ids) == sorted(expected), kind  # no duplicates, no gaps
