"""Rebuilding read models: `chirp replay` the way an operator runs it, as its own process, or
the same rebuild in this process (no process start of several seconds; for tests that rebuild
many projections and are not about the command)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from infra.app_processes import settings_environment
from infra.indexer import SEARCH_INDEX, replay_search
from infra.replay import replay
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


def replay_in_process(settings: Settings, projection: str, *, drop_grace_s: float = 0.5) -> None:
    """What `chirp replay PROJECTION` does, without starting a process."""

    def ignore(done: int, total: int) -> None:
        del done, total

    if projection == SEARCH_INDEX:
        replay_search(settings, ignore)
    else:
        asyncio.run(replay(settings, projection, ignore, drop_grace_s=drop_grace_s))
