"""Renders docs/perf/results.json as the table in docs/perf/README.md (between markers)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from infra.settings import REPO_ROOT

README = REPO_ROOT / "docs" / "perf" / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

# (what, measured key, target, baseline key, ratio key)
ROWS = [
    (
        "write p95 at 1,000 tweets/s (ms)",
        "write_p95_ms_at_1000_rps",
        "<= 10",
        "write_baseline_p95_ms_at_1000_rps",
        None,
    ),
    (
        "write, highest sustained (tweets/s)",
        "write_max_rps",
        ">= 3,000",
        "write_baseline_max_rps",
        "write_ratio_to_baseline",
    ),
    (
        "read p95 at 2,000 timelines/s (ms)",
        "read_p95_ms_at_2000_rps",
        "<= 10",
        "read_baseline_p95_ms_at_2000_rps",
        None,
    ),
    (
        "read, highest sustained (timelines/s)",
        "read_max_rps",
        ">= 50% of baseline",
        "read_baseline_max_rps",
        "read_ratio_to_baseline",
    ),
    (
        "fan-out deliveries/s",
        "fanout_deliveries_per_s",
        ">= 100,000",
        "fanout_baseline_raw_zadd_per_s",
        "fanout_ratio_to_raw_zadd",
    ),
    ("post-to-visible p95 (ms)", "fanout_visible_p95_ms", "<= 1,000", None, None),
    (
        "replay events/s",
        "replay_events_per_s",
        ">= 50,000",
        "replay_raw_consume_events_per_s",
        "replay_ratio_to_raw_consume",
    ),
]


def table(results: dict[str, Any]) -> str:
    lines = [
        f"Measured {results['date']} at commit `{results['git_commit']}` on {results['machine']}.",
        "",
        "| what | measured | target | baseline (same run) | ratio |",
        "|---|---:|---|---:|---:|",
    ]
    for what, key, goal, baseline, ratio in ROWS:
        base = results.get(baseline, "") if baseline else ""
        share = results.get(ratio, "") if ratio else ""
        lines.append(f"| {what} | {results.get(key, '')} | {goal} | {base} | {share} |")
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
