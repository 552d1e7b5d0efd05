"""Chirp's own processes, the Faust worker and the API, managed like the local servers."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

import redis
from redis.exceptions import RedisClusterException

from infra.local_services import LocalService
from infra.settings import Settings
from infra.wiring import sync_redis
from streams.heartbeat import heartbeat_key

PROBE_TIMEOUT_S = 1.0
# prometheus_client's multiprocess mode: the directory every process of one API shares.
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def settings_environment(settings: Settings) -> dict[str, str]:
    """The process environment that gives a child process these exact settings."""
    return {**os.environ, **settings.environment_variables()}


class WorkerProcess(LocalService):
    """A Faust worker running every projection agent (`chirp worker`)."""

    def __init__(self, settings: Settings, data_dir: Path | None = None, index: int = 0) -> None:
        self.name = f"worker-{index}"
        super().__init__(settings, data_dir or settings.var_dir / "run")
        self.index = index

    @property
    def tables_dir(self) -> Path:
        """Where this worker keeps its RocksDB tables (restored from changelogs when lost)."""
        return self.settings.worker_dir / f"worker-{self.index}"

    def _ports(self) -> dict[int, str]:
        return {}

    def _prepare(self) -> list[str]:
        return [sys.executable, "-m", "infra.cli", "worker", "--data-dir", str(self.tables_dir)]

    def _environment(self) -> dict[str, str]:
        environment = settings_environment(self.settings)
        if self.settings.worker_metrics_port:  # one /metrics port per worker of a deployment
            port = self.settings.worker_metrics_port + self.index
            environment["CHIRP_WORKER_METRICS_PORT"] = str(port)
        return environment

    @property
    def metrics_url(self) -> str | None:
        if not self.settings.worker_metrics_port:
            return None
        return f"http://127.0.0.1:{self.settings.worker_metrics_port + self.index}/metrics"

    def _answers(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        try:
            with sync_redis(self.settings, socket_timeout_s=PROBE_TIMEOUT_S) as client:
                assigned = client.get(heartbeat_key(f"{socket.gethostname()}:{pid}"))
        except (redis.RedisError, RedisClusterException):  # a cluster client checks on creation
            return False
        return assigned is not None and int(assigned) > 0


class IndexerProcess(LocalService):
    """The one writer of the tweet search index (`chirp indexer`); ready once the index's
    pointer names a version."""

    name = "indexer"

    def __init__(self, settings: Settings, data_dir: Path | None = None) -> None:
        super().__init__(settings, data_dir or settings.var_dir / "run")

    def _ports(self) -> dict[int, str]:
        return {}

    def _prepare(self) -> list[str]:
        return [sys.executable, "-m", "infra.cli", "indexer"]

    def _environment(self) -> dict[str, str]:
        return settings_environment(self.settings)

    def _answers(self) -> bool:
        return (self.settings.search_index_dir / "CURRENT").exists()


class ApiProcess(LocalService):
    """The HTTP API under uvicorn (uvloop, httptools), `settings.api_workers` processes."""

    name = "api"

    def __init__(
        self, settings: Settings, data_dir: Path | None = None, index: int | None = None
    ) -> None:
        if index is not None:  # one of several API processes, each with its own pid file
            self.name = f"api-{index}"
        super().__init__(settings, data_dir or settings.var_dir / "run")

    @property
    def url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"

    @property
    def metrics_dir(self) -> Path:
        """Where this API's processes (uvicorn workers) write their metrics for one another."""
        return self.data_dir / f"{self.name}-metrics"

    def _ports(self) -> dict[int, str]:
        return {self.settings.api_port: "CHIRP_API_PORT"}

    def _prepare(self) -> list[str]:
        # A previous run's files would add dead processes' counts to this run's.
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
        self.metrics_dir.mkdir(parents=True)
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "infra.asgi:create",
            "--host",
            self.settings.api_host,
            "--port",
            str(self.settings.api_port),
            "--workers",
            str(self.settings.api_workers),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
        ]

    def _environment(self) -> dict[str, str]:
        # prometheus_client reads it when first imported: before the app is.
        return {**settings_environment(self.settings), METRICS_DIR_VARIABLE: str(self.metrics_dir)}

    def _answers(self) -> bool:
        # Up once it answers /healthz (its lifespan connected to Kafka and Redis): /readyz is
        # 503 while the worker catches up, which may take longer than any startup timeout.
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=PROBE_TIMEOUT_S) as reply:  # noqa: S310 - our own loopback URL
                return bool(reply.status == 200)
        except (urllib.error.URLError, OSError):
            return False
