"""A private Chirp stack for benchmarks: its own ports and data under var/bench.

The API and the baseline server can be restarted with another number of uvicorn processes."""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.app_processes import ApiProcess, WorkerProcess
from infra.local_services import KafkaBroker, LocalService, RedisServer, free_ports
from infra.settings import REPO_ROOT, Settings
from infra.topics import ensure_topics

BENCH_DIR = REPO_ROOT / "var" / "bench"
BENCH_SECRET = "chirp-benchmark-secret-not-for-production-use"


class BaselineProcess(ApiProcess):
    """The baseline app under the same uvicorn command line as the API, on its own port."""

    name = "baseline"

    def __init__(self, settings: Settings, port: int) -> None:
        super().__init__(settings.model_copy(update={"api_port": port}))

    def _prepare(self) -> list[str]:
        command = super()._prepare()
        command[command.index("infra.asgi:create")] = "tests.perf.baseline_app:create"
        return command

    def _environment(self) -> dict[str, str]:
        return {**super()._environment(), "PYTHONPATH": str(REPO_ROOT)}  # tests/ is not installed

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as reply:  # noqa: S310
                return bool(reply.status == 200)
        except OSError:
            return False


@dataclass
class BenchStack:
    settings: Settings
    kafka: KafkaBroker
    redis: RedisServer
    worker: WorkerProcess
    api: ApiProcess
    baseline: BaselineProcess

    @property
    def processes(self) -> dict[str, LocalService]:
        return {"kafka": self.kafka, "redis": self.redis, "worker": self.worker, "api": self.api}

    @property
    def pids(self) -> dict[str, int]:
        return {name: pid for name, p in self.processes.items() if (pid := p.pid()) is not None}

    @property
    def api_workers(self) -> int:
        return self.api.settings.api_workers

    def restart_api(self, workers: int) -> None:
        """The API and the baseline again, each as `workers` uvicorn processes."""
        for service in (self.api, self.baseline):
            service.stop()
        settings = self.settings.model_copy(update={"api_workers": workers})
        self.api = ApiProcess(settings)
        self.baseline = BaselineProcess(settings, self.baseline.settings.api_port)
        for service in (self.api, self.baseline):
            service.start()
            service.wait_ready(timeout=120)


def bench_settings(var_dir: Path, **overrides: object) -> Settings:
    kafka_port, controller_port, redis_port, api_port = free_ports(4)
    values: dict[str, object] = {
        "environment": "test",
        "jwt_secret": BENCH_SECRET,
        "var_dir": var_dir,
        "kafka_port": kafka_port,
        "kafka_controller_port": controller_port,
        "redis_port": redis_port,
        "api_port": api_port,
        "kafka_heap": "1g",
        "topic_partitions": 8,
        # The load comes from one address, as a handful of users: limits it never reaches.
        **{
            f"rate_limit_{family}": "20000/second"
            for family in ("default", "registrations", "sessions", "media")
        },
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@contextmanager
def running_stack(var_dir: Path, **overrides: object) -> Iterator[BenchStack]:
    """Kafka, Redis, the worker, the API and the baseline on fresh data in `var_dir`."""
    shutil.rmtree(var_dir, ignore_errors=True)
    settings = bench_settings(var_dir, **overrides)
    stack = BenchStack(
        settings,
        KafkaBroker(settings),
        RedisServer(settings),
        WorkerProcess(settings),
        ApiProcess(settings),
        BaselineProcess(settings, free_ports(1)[0]),
    )
    started: list[str] = []
    try:
        for name in ("kafka", "redis", "worker", "api", "baseline"):
            service: LocalService = getattr(stack, name)
            service.start()
            started.append(name)
            service.wait_ready(timeout=120)
            if name == "kafka":
                ensure_topics(settings, timeout=60)
        yield stack
    finally:
        for name in reversed(started):
            getattr(stack, name).stop()  # the current process: `restart_api` replaces two
