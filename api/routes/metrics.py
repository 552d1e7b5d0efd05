"""`/metrics`: the API's Prometheus metrics, every API process's when several share a directory."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.responses import Response

from api.deps import Lags, Metrics
from api.metrics import METRICS_CONTENT_TYPE

log = logging.getLogger(__name__)

router = APIRouter(tags=["ops"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(lags: Lags, metrics: Metrics) -> Response:
    """Prometheus metrics in the text format (the projections' lag measured for the scrape)."""
    try:
        await lags.measure()  # tells the metrics; the last values stay when it fails
    except Exception as error:  # noqa: BLE001 - a scrape answers with what is known
        log.warning("could not measure the projections' lag for a scrape: %r", error)
    return Response(metrics.exposition(), media_type=METRICS_CONTENT_TYPE)
