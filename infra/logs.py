"""Structured logs: one JSON object per line from every Chirp process.

Each line has `time`, `level`, `logger`, `message`, the `process` kind (api, worker, indexer,
sink, cli) and, when known, the `correlation_id` of the request that caused the work: the API
takes it from `X-Correlation-Id` (or makes one), writes it into every event's headers, and the
worker sets it while it applies those events, so one id follows a write from the HTTP request
to the worker's lines about it. Extra fields given with `extra={...}` become keys of their own.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from schemas.envelope import CORRELATION_ID

FIELDS = "%(levelname)s %(name)s %(message)s"
RENAMED = {"levelname": "level", "name": "logger"}
# Loggers that come with handlers of their own; theirs are replaced so every line is JSON.
OWN_HANDLERS = ("uvicorn", "uvicorn.error", "faust", "mode", "aiokafka")


class ContextFields(logging.Filter):
    """Adds the process kind and the current correlation id to every record."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def filter(self, record: logging.LogRecord) -> bool:
        record.process_kind = self.process
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = CORRELATION_ID.get()
        return True


def json_handler(process: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            FIELDS,
            rename_fields={**RENAMED, "process_kind": "process"},
            timestamp="time",  # ISO 8601, UTC
        )
    )
    handler.addFilter(ContextFields(process))
    return handler


CHIRP_LOGGERS = ("api", "infra", "streams", "projections", "schemas", "domain")


def configure_logging(process: str, level: str | int = logging.INFO) -> None:
    """Every log line of this process as JSON on stderr, at `level` and above for Chirp's own
    loggers (libraries stay at WARNING)."""
    logging.config.dictConfig(logging_dict(process, level))


def logging_dict(process: str, level: str | int = logging.INFO) -> dict[str, Any]:
    """The same as a `logging.config.dictConfig` dictionary (for Faust's worker)."""
    level_name = level if isinstance(level, str) else logging.getLevelName(level)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"json": {"()": json_handler, "process": process}},
        "root": {"handlers": ["json"], "level": "WARNING"},
        "loggers": {
            **{name: {"level": level_name.upper()} for name in CHIRP_LOGGERS},
            # Loggers that come with handlers of their own: theirs go, so every line is JSON.
            **{name: {"handlers": [], "propagate": True} for name in OWN_HANDLERS},
            # Chirp logs each request itself ("request" lines, with the route and duration).
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }
