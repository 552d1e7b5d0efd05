"""A real S3 API for tests: versitygw (built once from the Go module proxy) over a directory."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.local_services import free_ports
from tests.support.go_tools import go_binary
from tests.support.waiting import wait_for

VERSITYGW_MODULE = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"
ACCESS_KEY = "chirp-test-access"
SECRET_KEY = "chirp-test-secret-key-not-for-production"


@dataclass(frozen=True, slots=True)
class S3Server:
    url: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def versitygw(root: Path) -> Iterator[S3Server]:
    """An S3 endpoint on a free loopback port whose buckets are directories under `root`."""
    binary = go_binary("versitygw", VERSITYGW_MODULE)
    [port] = free_ports(1)
    root.mkdir(parents=True, exist_ok=True)
    log = (root.parent / "versitygw.log").open("w")
    command = [str(binary), "--access", ACCESS_KEY, "--secret", SECRET_KEY]
    command += ["--port", f"127.0.0.1:{port}", "posix", str(root)]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: answers(port), timeout_s=30, what="versitygw to listen")
        yield S3Server(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
