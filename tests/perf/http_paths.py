"""The HTTP benchmarks: the write path and the read path, each beside its baseline server.

For each path, in this order: the baseline's highest sustained rate, Chirp's, then Chirp and
the baseline open loop at a share of that same-run baseline maximum (10 % for reads, 20 % for
writes), so the latency target follows this machine's speed on the day. The whole sequence
runs with one API process and again with two (the baseline gets as many); the headline keys
are those of the better ratio to the baseline, `{path}_api_workers` says which.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import orjson
from rich.console import Console
from rich.table import Table

from api.auth import ALGORITHM
from tests.perf.stack import BENCH_SECRET, BenchStack
from tests.perf.vegeta import LoadResult, attack, target
from tests.perf.workload import SocialGraph

console = Console()

API_PROCESS_COUNTS = (1, 2)
TARGETS_CHIRP = 5000  # distinct requests per run (random users); vegeta cycles through them
TARGETS_BASELINE = 2000


def token_for(user_id: int, handle: str) -> str:
    """A bearer token as `POST /v1/sessions` issues it (the loaded users' names are handles)."""
    now = int(time.time())
    claims = {"sub": str(user_id), "handle": handle, "name": handle, "iat": now, "exp": now + 7200}
    return jwt.encode(claims, BENCH_SECRET, algorithm=ALGORITHM)


def tweet_targets(
    url: str, graph: SocialGraph, count: int, rng: random.Random
) -> list[dict[str, Any]]:
    targets = []
    for n in range(count):
        index = rng.randrange(len(graph.user_ids))
        token = token_for(graph.user_ids[index], graph.handles[index])
        body = orjson.dumps({"text": f"benchmark tweet {n} #bench{n % 20}"})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        targets.append(target("POST", url, headers, body))
    return targets


def home_targets(
    url: str, graph: SocialGraph, count: int, rng: random.Random
) -> list[dict[str, Any]]:
    targets = []
    for _ in range(count):
        index = rng.randrange(len(graph.user_ids))
        token = token_for(graph.user_ids[index], graph.handles[index])
        targets.append(target("GET", url, {"Authorization": f"Bearer {token}"}))
    return targets


TargetMaker = Callable[[str, SocialGraph, int, random.Random], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class HttpPath:
    name: str  # the key prefix: "read" or "write"
    title: str
    make_targets: TargetMaker
    chirp_path: str
    baseline_path: str
    share_of_baseline: float  # the open-loop rate, as a share of the baseline's maximum
    settle: Callable[[], object] = lambda: None  # after the runs that put load on the worker

    @property
    def share_key(self) -> str:
        return f"{round(self.share_of_baseline * 100)}pct_baseline"


def measure_path(
    stack: BenchStack, path: HttpPath, graph: SocialGraph, seconds: float
) -> tuple[dict[str, LoadResult], dict[str, Any]]:
    """One path on the stack as it runs now; keys without a process-count suffix."""
    rng = random.Random(path.name)
    api, base = stack.api.url + path.chirp_path, stack.baseline.url + path.baseline_path
    runs: dict[str, LoadResult] = {}
    processes = stack.api_workers
    with console.status(f"{path.name} path, {processes} API process(es): highest rates ..."):
        runs["baseline_max"] = attack(
            path.make_targets(base, graph, TARGETS_BASELINE, rng), rate=0, duration_s=seconds
        )
        runs["max"] = attack(
            path.make_targets(api, graph, TARGETS_CHIRP, rng), rate=0, duration_s=seconds
        )
    path.settle()
    rate = max(1, round(path.share_of_baseline * runs["baseline_max"].achieved_rps))
    with console.status(f"{path.name} path, {processes} API process(es): {rate:,}/s open loop"):
        runs["at_share"] = attack(
            path.make_targets(api, graph, TARGETS_CHIRP, rng), rate=rate, duration_s=seconds
        )
        runs["baseline_at_share"] = attack(
            path.make_targets(base, graph, TARGETS_BASELINE, rng), rate=rate, duration_s=seconds
        )
    path.settle()
    show(f"{path.title}, {processes} API process(es)", runs)
    name, share = path.name, path.share_key
    at, max_, base_max = runs["at_share"], runs["max"], runs["baseline_max"]
    row = {
        f"{name}_max_rps": round(max_.achieved_rps, 1),
        f"{name}_max_success": round(max_.success_ratio, 4),
        f"{name}_baseline_max_rps": round(base_max.achieved_rps, 1),
        f"{name}_ratio_to_baseline": round(max_.achieved_rps / base_max.achieved_rps, 3),
        f"{name}_rate_at_{share}": rate,
        f"{name}_p50_ms_at_{share}": round(at.p50_ms, 2),
        f"{name}_p95_ms_at_{share}": round(at.p95_ms, 2),
        f"{name}_p99_ms_at_{share}": round(at.p99_ms, 2),
        f"{name}_success_at_{share}": round(at.success_ratio, 4),
        f"{name}_baseline_p95_ms_at_{share}": round(runs["baseline_at_share"].p95_ms, 2),
    }
    return runs, row


def by_api_processes(
    stack: BenchStack, paths: list[HttpPath], graph: SocialGraph, seconds: float
) -> dict[str, Any]:
    """Every path with each number of API processes; leaves the stack at one process."""
    rows: dict[str, dict[int, dict[str, Any]]] = {path.name: {} for path in paths}
    for processes in API_PROCESS_COUNTS:
        if stack.api_workers != processes:
            with console.status(f"restarting the API with {processes} process(es) ..."):
                stack.restart_api(processes)
        for path in paths:
            rows[path.name][processes] = measure_path(stack, path, graph, seconds)[1]
    if stack.api_workers != 1:
        stack.restart_api(1)
    results: dict[str, Any] = {}
    for name, by_count in rows.items():
        for processes, row in by_count.items():
            results |= {f"{key}_{processes}proc": value for key, value in row.items()}
        best = max(by_count, key=lambda n: by_count[n][f"{name}_ratio_to_baseline"])
        results |= by_count[best] | {f"{name}_api_workers": best}
    return results


def show(title: str, results: dict[str, LoadResult]) -> None:
    table = Table(title=title)
    for column in ("run", "requested/s", "achieved/s", "success", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column)
    for name, r in results.items():
        table.add_row(
            name,
            str(int(r.requested_rps) or "max"),
            f"{r.achieved_rps:,.0f}",
            f"{r.success_ratio:.3f}",
            f"{r.p50_ms:.1f}",
            f"{r.p95_ms:.1f}",
            f"{r.p99_ms:.1f}",
        )
    console.print(table)
