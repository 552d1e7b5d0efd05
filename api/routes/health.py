"""Liveness and readiness for operators and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.deps import Services
from api.lag import projection_lags
from api.responses import json_response

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> Response:
    """The process is alive."""
    return json_response({"status": "ok"})


@router.get("/readyz")
async def readyz(services: Services) -> Response:
    """Kafka producer connected, Redis reachable, and each projection's lag known."""
    checks: dict[str, object] = {}
    try:
        checks["redis"] = bool(await services.redis.ping())
    except Exception as error:  # noqa: BLE001 - readiness reports any failure
        checks["redis"] = False
        checks["redis_error"] = str(error)
    checks["kafka"] = bool(services.publisher.producer.client.cluster.brokers())
    lags: dict[str, int] | None = None
    if checks["redis"] and checks["kafka"]:
        try:
            lags = await projection_lags(services)
        except Exception as error:  # noqa: BLE001
            checks["lag_error"] = str(error)
    ready = bool(checks["redis"] and checks["kafka"] and lags is not None)
    return json_response(
        {"status": "ready" if ready else "not ready", "checks": checks, "projection_lag": lags},
        status=200 if ready else 503,
    )
