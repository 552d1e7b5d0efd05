"""Media: upload an image or a video, and serve its stored renditions.

Uploads are sniffed, decoded and stored by the `upload_media` use case; what they are is read
back from the media projection. Served bytes never change (a media id names immutable bytes),
so they are cached for a year, carry an ETag and answer ranges (for video players).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Path, UploadFile
from starlette.responses import Response

from api import contract
from api.deps import CorrelationId, CurrentUser, Freshness, Services, UseCasesDep, reads
from api.media_processing import IMAGE_TYPES, VIDEO_TYPES
from api.models import MediaOut
from api.problems import Problem
from api.responses import created
from api.use_cases.handlers import media_object_key
from api.views import media_view
from domain.events import MediaUploaded
from domain.ids import parse_id
from projections.media import media_description

router = APIRouter(tags=["media"])

MAX_ALT_TEXT = 1000
IMMUTABLE = "public, max-age=31536000, immutable"
MediaIdPath = Annotated[str, Path(max_length=20, description="Media id (decimal string)")]
VariantPath = Annotated[str, Path(pattern="^[a-z]{1,16}$", description="A stored rendition")]
# Honours `Chirp-After` (an upload's position) and the caller's own recent writes.
WaitsForMedia = Annotated[Freshness, Depends(reads("media"))]
_SERVED_TYPES: dict[str, dict[str, Any]] = {
    content_type: {} for content_type in (*IMAGE_TYPES, *VIDEO_TYPES)
}
SERVED = contract.read(404, 416) | {
    200: {"description": "The stored bytes", "content": _SERVED_TYPES},
    206: {"description": "The requested range of the stored bytes", "content": _SERVED_TYPES},
    304: {"description": "Not modified: the `If-None-Match` ETag is current"},
}
SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def uploaded_view(event: MediaUploaded) -> dict[str, Any]:
    return media_view(
        {
            "media_id": event.media_id,
            "content_type": event.content_type,
            "bytes": event.bytes,
            "width": event.width,
            "height": event.height,
            "alt_text": event.alt_text,
            "duration_s": event.duration_s,
            "variants": [
                {
                    "name": v.name,
                    "content_type": v.content_type,
                    "width": v.width,
                    "height": v.height,
                    "bytes": v.bytes,
                }
                for v in event.variants
            ],
        }
    )


@router.post(
    "/v1/media",
    status_code=201,
    response_model=MediaOut,
    responses=contract.created(400, 401, 413, 415),
)
async def upload(
    file: Annotated[UploadFile, File(description="The image (JPEG, PNG, WebP, GIF) or MP4")],
    caller: CurrentUser,
    use_cases: UseCasesDep,
    alt_text: Annotated[str | None, Form(max_length=MAX_ALT_TEXT)] = None,
    correlation_id: CorrelationId = None,
) -> Response:
    """Upload an image or a video; its type is read from its bytes, never from the request."""
    data = await file.read()
    uploaded = await use_cases.upload_media(
        caller.user_id, data, alt_text, correlation_id=correlation_id
    )
    view = uploaded_view(uploaded.event)
    return created(view, location=view["url"], position=uploaded.position)


@router.get("/media/{media_id}", response_class=Response, responses=SERVED)
async def original(
    media_id: MediaIdPath,
    services: Services,
    _fresh: WaitsForMedia,
    if_none_match: Annotated[str | None, Header()] = None,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
) -> Response:
    """The uploaded bytes (an image as stored: upright, without EXIF)."""
    return await serve(services, media_id, "original", if_none_match, range_header)


@router.get("/media/{media_id}/{variant}", response_class=Response, responses=SERVED)
async def rendition(
    media_id: MediaIdPath,
    variant: VariantPath,
    services: Services,
    _fresh: WaitsForMedia,
    if_none_match: Annotated[str | None, Header()] = None,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
) -> Response:
    """One stored rendition: `thumb` and `small` of an image, `poster` of a video."""
    return await serve(services, media_id, variant, if_none_match, range_header)


async def serve(
    services: Services,
    media_id: str,
    variant: str,
    if_none_match: str | None,
    range_header: str | None,
) -> Response:
    parsed = parse_id(media_id)
    not_found = Problem(404, f"no media {media_id!r} with a rendition {variant!r}")
    if parsed is None:
        raise not_found
    keys = (await services.read_models.namespaces("media"))["media"]
    described = await media_description(services.redis, keys, parsed)
    stored = {v["name"]: v for v in described["variants"]} if described else {}
    if variant not in stored:
        raise not_found
    etag = f'"{parsed}-{variant}"'
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag, "Accept-Ranges": "bytes"}
    if if_none_match is not None and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    data = await services.config.media_store.get(media_object_key(parsed, variant))
    if data is None:
        raise not_found
    content_type = stored[variant]["content_type"]
    if range_header is None:
        return Response(data, media_type=content_type, headers=headers)
    first, last = byte_range(range_header, len(data))
    headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    return Response(data[first : last + 1], 206, media_type=content_type, headers=headers)


def byte_range(header: str, size: int) -> tuple[int, int]:
    """The first and last byte of a single `bytes=` range; 416 if it asks for none."""
    match = SINGLE_RANGE.match(header.strip())
    unsatisfiable = Problem(
        416, f"range {header!r} is not within {size} bytes", headers={"Content-Range": f"*/{size}"}
    )
    if match is None or match.groups() == ("", ""):
        raise unsatisfiable
    start, end = match.groups()
    if start == "":  # the last `end` bytes
        first, last = max(0, size - int(end)), size - 1
    else:
        first, last = int(start), min(size - 1, int(end)) if end else size - 1
    if first > last or first >= size:
        raise unsatisfiable
    return first, last
