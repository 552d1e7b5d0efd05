"""Open-loop HTTP load with vegeta: requests leave on schedule whether or not earlier ones
have returned, so queueing shows up in the latencies (no coordinated omission)."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.go_tools import go_binary

VEGETA_MODULE = "github.com/tsenart/vegeta/v12@v12.12.0"


def vegeta_binary() -> Path:
    """vegeta, built from the Go module proxy into .cache/bin on first use."""
    return go_binary("vegeta", VEGETA_MODULE)


@dataclass(frozen=True, slots=True)
class LoadResult:
    requested_rps: float  # 0 = as fast as the server answers
    achieved_rps: float  # successful responses per second
    success_ratio: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int

    def as_dict(self) -> dict[str, float]:
        return {
            "requested_rps": self.requested_rps,
            "achieved_rps": round(self.achieved_rps, 1),
            "success_ratio": round(self.success_ratio, 4),
            "p50_ms": round(self.p50_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "requests": self.requests,
        }


def target(method: str, url: str, headers: dict[str, str], body: bytes = b"") -> dict[str, Any]:
    entry: dict[str, Any] = {
        "method": method,
        "url": url,
        "header": {name: [value] for name, value in headers.items()},
    }
    if body:
        entry["body"] = base64.b64encode(body).decode()
    return entry


def attack_command(
    targets_file: str, *, rate: int, duration_s: float, max_workers: int
) -> list[str]:
    command = [
        str(vegeta_binary()),
        "attack",
        "-format=json",
        f"-targets={targets_file}",
        f"-rate={rate}/s",
        f"-duration={duration_s}s",
        f"-max-workers={max_workers}",
        "-timeout=10s",
        "-keepalive=true",
    ]
    if rate > 0:
        command.append(f"-workers={min(max_workers, 64)}")
    return command


def targets_file(targets: list[dict[str, Any]]) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        handle.writelines(json.dumps(entry) + "\n" for entry in targets)
    return handle.name


def attack(
    targets: list[dict[str, Any]], *, rate: int, duration_s: float, max_workers: int = 256
) -> LoadResult:
    """rate=0 sends as fast as `max_workers` connections allow (the highest sustained rate)."""
    path = targets_file(targets)
    try:
        attacked = subprocess.run(
            attack_command(path, rate=rate, duration_s=duration_s, max_workers=max_workers),
            capture_output=True,
            check=True,
        )
        reported = subprocess.run(
            [str(vegeta_binary()), "report", "-type=json"],
            input=attacked.stdout,
            capture_output=True,
            check=True,
        )
    finally:
        Path(path).unlink(missing_ok=True)
    report = json.loads(reported.stdout)
    latencies = report["latencies"]
    requests = int(report["requests"])
    success = float(report["success"])
    return LoadResult(
        requested_rps=float(rate),
        achieved_rps=float(report["throughput"]),
        success_ratio=success,
        p50_ms=latencies["50th"] / 1e6,
        p95_ms=latencies["95th"] / 1e6,
        p99_ms=latencies["99th"] / 1e6,
        requests=requests,
    )


@dataclass(frozen=True, slots=True)
class Hit:
    """One request of an attack: when it left (wall clock), how long its answer took."""

    sent_at: float
    latency_s: float
    status: int
    body: bytes


async def attack_hits(
    targets: list[dict[str, Any]], *, rate: int, duration_s: float, max_workers: int = 256
) -> list[Hit]:
    """Each request's own result, for a load whose answers matter one by one. The attack runs
    as a subprocess, so the caller's event loop goes on meanwhile (listening, say)."""
    path = targets_file(targets)
    try:
        attacked = await run_quietly(
            attack_command(path, rate=rate, duration_s=duration_s, max_workers=max_workers)
        )
    finally:
        Path(path).unlink(missing_ok=True)
    # Not `subprocess.run`: listeners may still be timing arrivals in this event loop.
    encoded = (await run_quietly([str(vegeta_binary()), "encode", "-to=csv"], attacked)).decode()
    # Columns: timestamp (ns), code, latency (ns), bytes out, bytes in, error, body (base64), ...
    return [
        Hit(
            sent_at=int(row[0]) / 1e9,
            latency_s=int(row[2]) / 1e9,
            status=int(row[1]),
            body=base64.b64decode(row[6]),
        )
        for row in csv.reader(io.StringIO(encoded))
    ]


async def run_quietly(command: list[str], stdin: bytes = b"") -> bytes:
    """A subprocess's standard output, without blocking the event loop; raises on failure."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, errors = await process.communicate(stdin)
    if process.returncode != 0:
        raise RuntimeError(f"{command[:2]} failed: {errors.decode()[-2000:]}")
    return out
