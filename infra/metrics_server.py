"""The worker's `/metrics` endpoint: prometheus_client's HTTP server on a thread of its own.

A port that cannot be bound (another worker of the same machine has it) costs the metrics
only, never the worker: the projections go on and the failure is logged.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, start_http_server

log = logging.getLogger(__name__)


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> bool:
    """Serve `registry` on http://host:port/metrics; False when not served (port 0 or taken)."""
    if not port:
        return False
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as error:
        log.warning("worker metrics not served on %s:%d: %s", host, port, error)
        return False
    log.info("worker metrics on http://%s:%d/metrics", host, port)
    return True
