"""The capacity page's arithmetic: fleets follow the load and the measured rates."""

from __future__ import annotations

from typing import Any

from tests.perf.capacity import DESIGN_LOAD, page, plan

RESULTS: dict[str, Any] = {
    "git_commit": "abc1234",
    "date": "2026-01-01T00:00:00+00:00",
    "read_max_rps_1proc": 1000.0,
    "write_max_rps_1proc": 500.0,
    "fanout_deliveries_per_s": 20_000,
    "fanout_single_deliveries_per_s": 50_000,
}


def test_stateless_parts_grow_with_the_load_and_shrink_with_faster_processes() -> None:
    base = plan(RESULTS, DESIGN_LOAD)
    tenfold = plan(RESULTS, DESIGN_LOAD.scaled(10))
    assert base.api_read_processes == 1000  # 1 M reads/s at 1,000 per process
    assert base.api_write_processes == 7  # 3,500 writes/s at 500 per process
    assert tenfold.api_read_processes == 10 * base.api_read_processes
    assert tenfold.redis_nodes >= 10 * base.redis_nodes - 9
    faster = plan({**RESULTS, "fanout_deliveries_per_s": 40_000}, DESIGN_LOAD)
    assert faster.workers == (base.workers + 1) // 2
    assert base.partitions >= base.workers


def test_kafka_keeps_three_brokers_for_replication_even_when_bytes_are_few() -> None:
    assert plan(RESULTS, DESIGN_LOAD).kafka_brokers == 3


def test_the_page_names_its_source_run() -> None:
    text = page(RESULTS)
    assert "commit `abc1234`" in text
    assert "original design x10" in text
