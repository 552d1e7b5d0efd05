"""Renders docs/perf/results.json as the table in docs/perf/README.md (between markers).

One row per target: the measured value, the target, the same-run baseline, the ratio and
whether the target is met. Targets are stated against baselines measured in the same run,
because this machine's speed varies from day to day.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from infra.settings import REPO_ROOT

README = REPO_ROOT / "docs" / "perf" / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


@dataclass(frozen=True, slots=True)
class TargetRow:
    what: str
    measured: str
    baseline: str | None
    ratio: str | None  # a ratio key; None: measured / baseline, shown for information
    judged: Literal["measured", "ratio"]  # which of the two the target bounds
    op: Literal[">=", "<="]
    limit: float
    detail: str = ""  # result keys in braces, e.g. "{read_api_workers} API processes"

    def label(self, results: dict[str, Any]) -> str:
        """`what`, with the detail in parentheses when the results have every key it names."""
        try:
            return f"{self.what} ({self.detail.format_map(results)})" if self.detail else self.what
        except KeyError:
            return self.what

    @property
    def target(self) -> str:
        limit = f"{self.limit:,g}"
        return f"{self.op} {limit} x baseline" if self.judged == "ratio" else f"{self.op} {limit}"


ROWS = [
    TargetRow(
        "home read, highest sustained (timelines/s) / canned page",
        "read_max_rps",
        "read_baseline_max_rps",
        "read_ratio_to_baseline",
        "ratio",
        ">=",
        0.25,
        "{read_api_workers} API process(es)",
    ),
    TargetRow(
        "home read p95 (ms) at 10 % of the baseline's highest rate",
        "read_p95_ms_at_10pct_baseline",
        "read_baseline_p95_ms_at_10pct_baseline",
        None,
        "measured",
        "<=",
        20,
        "{read_rate_at_10pct_baseline}/s, {read_api_workers} API process(es)",
    ),
    TargetRow(
        "write, highest sustained (tweets/s) / trivial POST",
        "write_max_rps",
        "write_baseline_max_rps",
        "write_ratio_to_baseline",
        "ratio",
        ">=",
        0.5,
        "{write_api_workers} API process(es)",
    ),
    TargetRow(
        "write p95 (ms) at 20 % of the baseline's highest rate",
        "write_p95_ms_at_20pct_baseline",
        "write_baseline_p95_ms_at_20pct_baseline",
        None,
        "measured",
        "<=",
        20,
        "{write_rate_at_20pct_baseline}/s, {write_api_workers} API process(es)",
    ),
    TargetRow(
        "search p95 (ms) under the write load / canned page at the same rate",
        "search_p95_ms_under_writes",
        "search_baseline_p95_ms_under_writes",
        None,
        "measured",
        "<=",
        50,
        "{search_rate}/s while {search_write_load_rps} tweets/s are written",
    ),
    TargetRow(
        "searchable after the 201, slowest of the probes (ms)",
        "search_visible_after_201_max_ms",
        None,
        None,
        "measured",
        "<=",
        1000,
        "median {search_visible_after_201_p50_ms} ms",
    ),
    TargetRow(
        "fan-out through Kafka and the worker, a burst (deliveries/s) / raw pipelined ZADD",
        "fanout_deliveries_per_s",
        "fanout_baseline_raw_zadd_per_s",
        "fanout_ratio_to_raw_zadd",
        "ratio",
        ">=",
        1.0,
    ),
    TargetRow(
        "fan-out, projection writer on a 3-master Cluster (deliveries/s) / single Redis",
        "fanout_cluster_deliveries_per_s",
        "fanout_single_deliveries_per_s",
        "fanout_cluster_ratio_to_single",
        "ratio",
        ">=",
        0.8,
    ),
    TargetRow(
        "post-to-visible p95 (ms), ordinary authors",
        "fanout_visible_p95_ms",
        None,
        None,
        "measured",
        "<=",
        1000,
        "{fanout_visible_rate:.0f} tweets/s through the API",
    ),
    TargetRow(
        "replay (events/s) / raw kafka-python consumption",
        "replay_events_per_s",
        "replay_raw_consume_events_per_s",
        "replay_ratio_to_raw_consume",
        "ratio",
        ">=",
        1.5,
    ),
    TargetRow(
        "worker, follows projected (events/s) / raw consumption of the follows topic",
        "worker_follow_events_per_s",
        "worker_follow_raw_consume_events_per_s",
        "worker_follow_ratio_to_raw_consume",
        "ratio",
        ">=",
        0.2,
    ),
]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def row_cells(row: TargetRow, results: dict[str, Any]) -> list[str]:
    measured = _number(results.get(row.measured))
    baseline = _number(results.get(row.baseline)) if row.baseline else None
    ratio = _number(results.get(row.ratio)) if row.ratio else None
    if row.ratio is None and measured is not None and baseline:
        ratio = round(measured / baseline, 1)
    judged = ratio if row.judged == "ratio" else measured
    met = ""
    if judged is not None:
        met = "yes" if (judged >= row.limit if row.op == ">=" else judged <= row.limit) else "no"
    return [
        row.label(results),
        _cell(results.get(row.measured)),
        row.target,
        _cell(results.get(row.baseline)) if row.baseline else "",
        _cell(ratio),
        met,
    ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value >= 1000:
        return f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def api_processes_line(results: dict[str, Any]) -> str:
    parts = []
    for path in ("read", "write"):
        for count in (1, 2):
            sfx = f"_{count}proc"
            if f"{path}_max_rps{sfx}" in results:
                share = "10pct" if path == "read" else "20pct"
                parts.append(
                    f"{path} with {count}: {_cell(results[f'{path}_max_rps{sfx}'])}/s "
                    f"(x{results[f'{path}_ratio_to_baseline{sfx}']} of "
                    f"{_cell(results[f'{path}_baseline_max_rps{sfx}'])}), p95 "
                    f"{results[f'{path}_p95_ms_at_{share}_baseline{sfx}']} ms at "
                    f"{_cell(results[f'{path}_rate_at_{share}_baseline{sfx}'])}/s"
                )
    return "API processes: " + "; ".join(parts) + "." if parts else ""


def mastodon_line(results: dict[str, Any]) -> str:
    """The home read through the Mastodon API beside `/v1`'s, from the same run."""
    if "mastodon_home_max_rps" not in results:
        return ""
    return (
        f"Mastodon API home read (/api/v1/timelines/home, limit 20): "
        f"{_cell(results['mastodon_home_max_rps'])}/s, x{results['mastodon_home_ratio_to_v1']} "
        f"of /v1/timelines/home's {_cell(results['mastodon_home_v1_max_rps'])}/s in the same "
        f"run; p95 {results['mastodon_home_p95_ms_open_loop']} ms against "
        f"{results['mastodon_home_v1_p95_ms_open_loop']} ms, both at "
        f"{_cell(results['mastodon_home_open_loop_rate'])}/s."
    )


def table(results: dict[str, Any]) -> str:
    lines = [
        f"Measured {results['date']} at commit `{results['git_commit']}` on {results['machine']}.",
        "",
        "| what | measured | target | baseline (same run) | ratio | met |",
        "|---|---:|---|---:|---:|---|",
    ]
    for row in ROWS:
        lines.append("| " + " | ".join(row_cells(row, results)) + " |")
    processes = api_processes_line(results)
    if processes:
        lines += ["", processes]
    mastodon = mastodon_line(results)
    if mastodon:
        lines += ["", mastodon]
    memory = {k: v for k, v in results.items() if k.startswith("rss_mib_")}
    lines += [
        "",
        "Peak resident memory (MiB): " + ", ".join(f"{k[8:]} {v}" for k, v in memory.items()),
    ]
    return "\n".join(lines)


def render(results_path: Path, readme: Path = README) -> None:
    results = json.loads(results_path.read_text())
    text = readme.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    readme.write_text(f"{head}{BEGIN}\n{table(results)}\n{END}{tail}")


if __name__ == "__main__":
    render(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "docs/perf/results.json")
