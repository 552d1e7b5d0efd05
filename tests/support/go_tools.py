"""Small tools built once from the Go module proxy into .cache/bin (vegeta, versitygw)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from infra.settings import REPO_ROOT

BIN_DIR = REPO_ROOT / ".cache" / "bin"


def go_binary(name: str, module: str) -> Path:
    """The binary `name` installed from `module` (`path@version`), built on first use."""
    binary = BIN_DIR / name
    if not binary.exists():
        if shutil.which("go") is None:
            raise RuntimeError(f"go not found: it is needed once to build {name}")
        env = {**os.environ, "GOBIN": str(BIN_DIR)}
        subprocess.run(["go", "install", module], env=env, check=True)
    return binary
