"""Media: uploads (`POST /api/v2/media`, and `/api/v1/media` for older clients), an upload
read back (`GET /api/v1/media/:id`) and its description (`PUT`), rendered as the
MediaAttachment entity statuses carry (`statuses_entity.media_attachment`).

Uploads go through the same `upload_media` use case as `POST /v1/media`: the bytes are sniffed,
decoded and stored before `MediaUploaded` is produced, so an upload is finished when it is
answered (200 with its url, never 202). Chirp has no event that changes an upload's alt text
after the upload, so `PUT` refuses a new description (422) instead of pretending to keep it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api.deps import CorrelationId
from api.mastodon.context import Masto, scoped
from api.mastodon.errors import NOT_FOUND, MastodonError, MastodonRoute
from api.mastodon.params import params_of
from api.mastodon.statuses_entity import media_attachment
from api.positions import POSITION_HEADER, encode_token
from api.responses import json_response
from api.routes.media import MAX_ALT_TEXT, uploaded_view
from api.use_cases.errors import MediaNotAccepted
from api.views import JsonObject, media_view
from domain.ids import parse_id
from projections.media import media_description

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)

# Mastodon asks `write:media` to read an upload back too (only its owner may).
WriteMedia = Annotated[Masto, Depends(scoped("write:media"))]


@router.post("/api/v2/media")
async def upload_v2(context: WriteMedia, correlation_id: CorrelationId = None) -> Response:
    """Upload an image or a video; it is processed before the answer (200, with its url)."""
    return await _upload(context, correlation_id)


@router.post("/api/v1/media")
async def upload_v1(context: WriteMedia, correlation_id: CorrelationId = None) -> Response:
    """The older upload path, answered the same way."""
    return await _upload(context, correlation_id)


async def _upload(context: Masto, correlation_id: str | None) -> Response:
    params = await params_of(context.request)
    upload = params.file("file")
    if upload is None:
        raise MastodonError(422, "Validation failed: File can't be blank")
    description = params.text("description")
    if description is not None and len(description) > MAX_ALT_TEXT:
        raise MastodonError(
            422, f"Validation failed: Description is too long (maximum is {MAX_ALT_TEXT})"
        )
    data = await upload.read()
    try:
        uploaded = await context.use_cases.upload_media(
            context.user.user_id, data, description, correlation_id=correlation_id
        )
    except MediaNotAccepted as refused:
        # Mastodon answers an unsupported file with 422, not 415.
        raise MastodonError(422, f"Validation failed: File {refused}") from None
    entity = media_attachment(uploaded_view(uploaded.event), str(context.request.base_url))
    return json_response(entity, headers={POSITION_HEADER: encode_token([uploaded.position])})


async def _own_upload(context: Masto, media_id: str) -> JsonObject:
    """The caller's upload `media_id` as a `/v1` view; 404 for an unknown one or another's."""
    parsed = parse_id(media_id)
    if parsed is None:
        raise MastodonError(404, NOT_FOUND)
    await context.fresh("media")
    keys = (await context.services.read_models.namespaces("media"))["media"]
    described = await media_description(context.services.redis, keys, parsed)
    if described is None or int(described["owner_id"]) != context.user.user_id:
        raise MastodonError(404, NOT_FOUND)
    return media_view(described)


@router.get("/api/v1/media/{media_id}")
async def get_media(media_id: str, context: WriteMedia) -> Response:
    """One of your uploads (always processed: 200)."""
    view = await _own_upload(context, media_id)
    return json_response(media_attachment(view, str(context.request.base_url)))


@router.put("/api/v1/media/{media_id}")
async def update_media(media_id: str, context: WriteMedia) -> Response:
    """An upload's description as uploaded: a different one is refused, as Chirp keeps the alt
    text an upload was made with (no event changes it). `focus` and `thumbnail` are ignored."""
    view = await _own_upload(context, media_id)
    params = await params_of(context.request)
    description = params.text("description")
    if description is not None and description != (view.get("alt_text") or ""):
        raise MastodonError(
            422,
            "Validation failed: Chirp keeps the description an upload was made with; "
            "upload the file again with the new description",
        )
    return json_response(media_attachment(view, str(context.request.base_url)))
