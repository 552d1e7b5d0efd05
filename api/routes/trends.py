"""Trending hashtags, ranked by how fast they are rising (see `domain.trends`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from api import contract
from api.deps import Freshness, Services, reads
from api.models import TrendsOut
from api.responses import json_response
from api.views import iso_time
from projections.trends import read_trends

router = APIRouter(prefix="/v1/trends", tags=["trends"])


@router.get("", response_model=TrendsOut, responses=contract.read())
async def trends(
    services: Services,
    freshness: Annotated[Freshness, Depends(reads("trends"))],
    limit: Annotated[int, Query(ge=1, le=50, description="How many tags")] = 10,
) -> Response:
    """The current window's hashtags, rising fastest first, each with its count and score."""
    windows = services.config.trend_windows
    keys = (await services.read_models.namespaces("trends"))["trends"]
    as_of, ranked = await read_trends(services.redis, keys, windows)
    payload = {
        "window_seconds": windows.size_ms // 1000,
        "as_of": iso_time(as_of) if as_of is not None else None,
        "data": [
            {"hashtag": t.hashtag, "count": t.count, "score": t.score} for t in ranked[:limit]
        ],
    }
    return json_response(payload, headers=freshness.headers())
