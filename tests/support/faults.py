"""Helpers of the fault tests on the multi-node topology."""

from __future__ import annotations

import os
import signal

import pytest

from infra.multi_node import MultiNodeTopology


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """A measurement, shown in the test output even while pytest captures it."""
    with capsys.disabled():
        print(f"\n[multi-node fault] {line}")


def ensure_whole(topology: MultiNodeTopology) -> None:
    """Resume brokers a failed test left stopped, restart whatever it left dead, and wait until
    all of it answers."""
    for broker in topology.kafka.nodes:
        pid = broker.pid()
        if pid is not None:
            os.kill(pid, signal.SIGCONT)
    for process in topology.processes():
        if not process.is_running():
            process.start()
            process.wait_ready()
    topology.redis.wait_ready()
