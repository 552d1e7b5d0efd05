"""Read markers (`/api/v1/markers`): where a user stopped reading their home timeline and
their notifications, shared between their apps.

- `notifications` is Chirp's own read marker (`NotificationsRead` on the log, kept by the
  notifications read model): setting it marks read up to that notification, as
  `POST /v1/notifications/read` does, and it never moves back. Read back, `last_read_id` is
  the newest notification at or before the marker, `version` and `updated_at` the marker's
  time.
- `home` has no counterpart in Chirp's events: it is client state, kept like OAuth tokens in
  one Redis hash per user (`chirp:mastodon:markers:{user}`), not on the log, so a replay does
  not rebuild it. Its `version` counts its updates.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api.deps import CorrelationId
from api.mastodon.context import Masto, scoped
from api.mastodon.errors import MastodonError, MastodonRoute
from api.mastodon.notifications import (
    ID_DIGITS,
    key_of_number,
    notification_id,
)
from api.mastodon.params import Params, params_of
from api.positions import POSITION_HEADER, encode_token
from api.responses import json_response
from api.views import JsonObject, iso_time
from domain.ids import parse_id
from projections.notifications import KINDS, notifications_between, read_marker

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)

ReadMarkers = Annotated[Masto, Depends(scoped("read:statuses"))]
WriteMarkers = Annotated[Masto, Depends(scoped("write:statuses"))]

TIMELINES = ("home", "notifications")
PREFIX = "chirp:mastodon:markers"


def markers_key(user_id: int) -> str:
    return f"{PREFIX}:{{{user_id}}}"


async def _home(context: Masto) -> JsonObject | None:
    stored: dict[Any, Any] = await context.services.redis.hgetall(markers_key(context.user.user_id))
    fields = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in stored.items()
    }
    if "home_id" not in fields:
        return None
    return {
        "last_read_id": fields["home_id"],
        "version": int(fields.get("home_version", 0)),
        "updated_at": iso_time(int(fields.get("home_at", 0))),
    }


async def _notifications(context: Masto) -> JsonObject | None:
    await context.fresh("notifications")
    keys = (await context.services.read_models.namespaces("notifications"))["notifications"]
    user_id = context.user.user_id
    marker = await read_marker(context.services.redis, keys, user_id)
    if marker == 0:
        return None
    # The newest notification at or before the marker (any kind rank at that ms is below 10).
    newest = await notifications_between(
        context.services.redis, keys, user_id, KINDS, count=1, below=(marker, 10, 0, 0)
    )
    last_read = notification_id(newest[0]) if newest else f"{marker:013d}9{'9' * (ID_DIGITS - 14)}"
    return {"last_read_id": last_read, "version": marker, "updated_at": iso_time(marker)}


async def _answer(context: Masto, timelines: list[str]) -> dict[str, JsonObject]:
    found: dict[str, JsonObject] = {}
    for timeline in timelines:
        marker = await (_home(context) if timeline == "home" else _notifications(context))
        if marker is not None:
            found[timeline] = marker
    return found


@router.get("/api/v1/markers")
async def get_markers(context: ReadMarkers) -> Response:
    """The markers of `timeline[]` (home, notifications); unknown timelines are ignored."""
    params = await params_of(context.request)
    wanted = [t for t in TIMELINES if t in set(params.texts("timeline"))]
    return json_response(await _answer(context, wanted))


def _last_read_id(params: Params, timeline: str) -> str | None:
    """`home[last_read_id]` (a form) or `{"home": {"last_read_id": ...}}` (JSON)."""
    value = params.get(f"{timeline}[last_read_id]")
    nested = params.get(timeline)
    if value is None and isinstance(nested, dict):
        value = nested.get("last_read_id")
    return None if value is None else str(value)


@router.post("/api/v1/markers")
async def set_markers(context: WriteMarkers, correlation_id: CorrelationId = None) -> Response:
    """Set the home and/or notifications markers."""
    params = await params_of(context.request)
    home = _last_read_id(params, "home")
    notifications = _last_read_id(params, "notifications")
    if home is None and notifications is None:
        raise MastodonError(422, "Validation failed: name a timeline (home or notifications)")
    if home is not None and parse_id(home) is None:
        raise MastodonError(422, "Validation failed: home last_read_id is not a status id")
    if notifications is not None and not (
        notifications.isdigit() and len(notifications) <= ID_DIGITS
    ):
        raise MastodonError(
            422, "Validation failed: notifications last_read_id is not a notification id"
        )
    headers: dict[str, str] = {}
    if home is not None:
        async with context.services.redis.pipeline(transaction=True) as pipe:
            key = markers_key(context.user.user_id)
            pipe.hset(key, mapping={"home_id": home, "home_at": int(time.time() * 1000)})
            pipe.hincrby(key, "home_version", 1)
            await pipe.execute()
    if notifications is not None:
        up_to_ms = key_of_number(int(notifications))[0]
        position = await context.use_cases.mark_notifications_read(
            context.user.user_id, up_to_ms, correlation_id=correlation_id
        )
        headers[POSITION_HEADER] = encode_token([position])
    named = [t for t, v in (("home", home), ("notifications", notifications)) if v is not None]
    return json_response(await _answer(context, named), headers=headers)
