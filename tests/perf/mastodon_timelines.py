"""The home timeline through Mastodon's `/api/v1/timelines/home` beside `/v1/timelines/home`,
in one run on the same stack, users and tokens.

Both paths read the same home timelines (the Mastodon route calls the `/v1` route in
process, then renders each tweet as a Status, with the caller's favourited, reblogged and
bookmarked state and mentioned accounts read in one more pipeline). Measured: each path's
highest sustained rate (vegeta, `-rate=0`, 32 connections), twice each in the order v1,
Mastodon, Mastodon, v1, then both open loop at half of the `/v1` path's highest rate, for the
latency at a rate both can serve; before each run the API has drained what the previous one
left queued. Reported: the mean rates, their ratio (`mastodon_home_ratio_to_v1`) and the
p50/p95 at that shared rate.

`make bench` runs it after the `/v1` read and write paths. Alone, on a private stack with a
small workload (about three minutes):

    .venv/bin/python -m tests.perf.mastodon_timelines [--users 1000] [--mean-followees 20]
        [--seconds 5] [--output var/bench-mastodon-home.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from infra.settings import REPO_ROOT
from tests.perf.http_paths import home_targets, show
from tests.perf.stack import BENCH_DIR, BenchStack, running_stack
from tests.perf.vegeta import LoadResult, attack
from tests.perf.workload import SocialGraph, WorkloadShape

console = Console()

V1_HOME = "/v1/timelines/home?limit=20"
MASTODON_HOME = "/api/v1/timelines/home?limit=20"
TARGETS = 5000  # distinct requests per run (random users); vegeta cycles through them
OPEN_LOOP_SHARE = 0.5  # of the `/v1` path's highest rate
# Closed-loop connections for the highest rates: enough to keep one API process busy, few
# enough that no answer waits out vegeta's 10 s timeout on a slow day.
CONNECTIONS = 32
SETTLED_S = 0.2
OUTPUT = REPO_ROOT / "var" / "bench-mastodon-home.json"


def settle(url: str, timeout_s: float = 60.0) -> None:
    """Until the API answers at once again: requests a run gave up on (vegeta's timeout)
    may still be queued in the API process, and would slow the next run down."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=url, timeout=timeout_s) as client:
        while time.monotonic() < deadline:
            started = time.monotonic()
            client.get("/healthz")
            if time.monotonic() - started < SETTLED_S:
                return
            time.sleep(0.5)


def home_read_rates(stack: BenchStack, graph: SocialGraph, seconds: float) -> dict[str, Any]:
    """Highest rates of both home paths (alternating, twice each: v1, Mastodon, Mastodon,
    v1, so a drift in the machine's speed weighs on both alike), then their latency open
    loop at a shared rate."""
    rng = random.Random("mastodon-home")
    url = stack.api.url

    def run(path: str, rate: int) -> LoadResult:
        targets = home_targets(url + path, graph, TARGETS, rng)
        settle(url)
        return attack(targets, rate=rate, duration_s=seconds, max_workers=CONNECTIONS)

    runs: dict[str, LoadResult] = {}
    with console.status("home read, /v1 and Mastodon: highest rates ..."):
        for name, path in (
            ("v1_max_1", V1_HOME),
            ("mastodon_max_1", MASTODON_HOME),
            ("mastodon_max_2", MASTODON_HOME),
            ("v1_max_2", V1_HOME),
        ):
            runs[name] = run(path, 0)
    v1_rps = (runs["v1_max_1"].achieved_rps + runs["v1_max_2"].achieved_rps) / 2
    masto_rps = (runs["mastodon_max_1"].achieved_rps + runs["mastodon_max_2"].achieved_rps) / 2
    rate = max(1, round(OPEN_LOOP_SHARE * v1_rps))
    with console.status(f"home read, /v1 and Mastodon: {rate:,}/s open loop ..."):
        runs["v1_open_loop"] = run(V1_HOME, rate)
        runs["mastodon_open_loop"] = run(MASTODON_HOME, rate)
    show("home read: /v1/timelines/home and /api/v1/timelines/home (limit 20)", runs)
    masto_runs = (runs["mastodon_max_1"], runs["mastodon_max_2"])
    return {
        "mastodon_home_max_rps": round(masto_rps, 1),
        "mastodon_home_max_success": round(min(r.success_ratio for r in masto_runs), 4),
        "mastodon_home_v1_max_rps": round(v1_rps, 1),
        "mastodon_home_ratio_to_v1": round(masto_rps / v1_rps, 3) if v1_rps else None,
        "mastodon_home_open_loop_rate": rate,
        "mastodon_home_p50_ms_open_loop": round(runs["mastodon_open_loop"].p50_ms, 2),
        "mastodon_home_p95_ms_open_loop": round(runs["mastodon_open_loop"].p95_ms, 2),
        "mastodon_home_success_open_loop": round(runs["mastodon_open_loop"].success_ratio, 4),
        "mastodon_home_v1_p50_ms_open_loop": round(runs["v1_open_loop"].p50_ms, 2),
        "mastodon_home_v1_p95_ms_open_loop": round(runs["v1_open_loop"].p95_ms, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--mean-followees", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    # The full run's loading and activation, on a smaller workload.
    from tests.perf.__main__ import activate, load_workload

    shape = WorkloadShape(users=args.users, mean_followees=args.mean_followees)
    with running_stack(BENCH_DIR / "mastodon-home") as stack:
        graph, loaded = load_workload(stack, shape)
        with console.status("activating every user (one home timeline read each) ..."):
            asyncio.run(activate(stack.api.url, graph))
        results = {
            "command": "python -m tests.perf.mastodon_timelines "
            f"--users {args.users} --mean-followees {args.mean_followees} "
            f"--seconds {args.seconds}",
            "workload_users": loaded["workload_users"],
            "workload_follows": loaded["workload_follows"],
            **home_read_rates(stack, graph, args.seconds),
        }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    console.print(results)
    console.print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
