"""The ASGI entry point for uvicorn (`--factory infra.asgi:create`): settings from the env.

`PROMETHEUS_MULTIPROC_DIR` (set by the process launcher, read by prometheus_client at import)
tells the metrics that several processes share one directory.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from fastapi import FastAPI

from api.app import create_app
from infra.app_processes import METRICS_DIR_VARIABLE
from infra.logs import configure_logging
from infra.settings import Settings
from infra.wiring import api_config


def create() -> FastAPI:
    settings = Settings()
    configure_logging("api", settings.log_level)
    config = api_config(settings)
    multiprocess_dir = os.environ.get(METRICS_DIR_VARIABLE)
    if multiprocess_dir:
        config = dataclasses.replace(config, metrics_multiprocess_dir=Path(multiprocess_dir))
    return create_app(config)
