"""Liveness and readiness for operators and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.deps import Lags, Services
from api.lag import ServingLag
from api.problems import problem_response
from api.responses import json_response

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> Response:
    """The process is alive."""
    return json_response({"status": "ok"})


@router.get("/readyz")
async def readyz(services: Services, lags: Lags) -> Response:
    """Kafka and Redis reachable, and every serving projection present and near the log's end."""
    checks: dict[str, object] = {}
    reasons: list[str] = []
    try:
        checks["redis"] = bool(await services.redis.ping())
    except Exception as error:  # noqa: BLE001 - readiness reports any failure
        checks["redis"] = False
        checks["redis_error"] = str(error)
        reasons.append(f"Redis does not answer: {error}")
    checks["kafka"] = bool(services.publisher.producer.client.cluster.brokers())
    if not checks["kafka"]:
        reasons.append("no Kafka broker is known")
    measured: ServingLag | None = None
    if checks["redis"] and checks["kafka"]:
        try:
            measured = await lags.measure()
        except Exception as error:  # noqa: BLE001
            checks["lag_error"] = str(error) or type(error).__name__
            reasons.append(f"the projections' lag is unknown: {checks['lag_error']}")
    if measured:
        reasons += measured.reasons(lags.max_lag_events).values()
    found = {"checks": checks, "projection_lag": measured.lags if measured else None}
    if not reasons:
        return json_response({"status": "ready", **found})
    return problem_response(
        503, "; ".join(reasons), title="Not ready", extra={"reasons": reasons, **found}
    )
