"""The analytics sink as a managed local process, for `chirp up` and the tests.

Ready means: this very process (the pid we started) wrote in its status file that it has
joined the consumer group and received its assignment, i.e. it is consuming. That file is
written by the sink itself after the group's rebalance completes, so readiness is not a guess
from elapsed time or a log line.
"""

from __future__ import annotations

import sys
from pathlib import Path

from infra.analytics.sink import read_status
from infra.app_processes import settings_environment
from infra.local_services import LocalService
from infra.settings import Settings


class AnalyticsSinkProcess(LocalService):
    """`chirp analytics sink` in the background, with its pid, log and status file."""

    name = "analytics-sink"

    def __init__(self, settings: Settings, data_dir: Path | None = None) -> None:
        super().__init__(settings, data_dir or settings.var_dir / "run")

    @property
    def status_file(self) -> Path:
        return self.data_dir / f"{self.name}.status.json"

    def _ports(self) -> dict[int, str]:
        return {}

    def _prepare(self) -> list[str]:
        self.status_file.unlink(missing_ok=True)  # a previous run's "joined" must not count
        return [
            sys.executable,
            "-m",
            "infra.analytics.cli",
            "sink",
            "--status-file",
            str(self.status_file),
        ]

    def _environment(self) -> dict[str, str]:
        return settings_environment(self.settings)

    def _answers(self) -> bool:
        status = read_status(self.status_file)
        return (
            status is not None
            and status.get("pid") == self.pid()
            and status.get("state") == "joined"
        )
