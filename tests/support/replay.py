"""Running `chirp replay` the way an operator would: as its own process."""

from __future__ import annotations

import subprocess
import sys

from infra.app_processes import settings_environment
from infra.settings import Settings


def run_replay(settings: Settings, projection: str, *, drop_grace_s: float = 0.5) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.cli",
            "replay",
            projection,
            "--drop-grace-s",
            str(drop_grace_s),
        ],
        env=settings_environment(settings),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
