"""What clients ask before anything else: the instance (`/api/v1` and `/api/v2`), NodeInfo,
and custom emojis (none). Their version and feature checks read these."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from api.mastodon.errors import MastodonRoute
from api.responses import json_response
from domain.text import MAX_TWEET_CHARS

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)

CHIRP_VERSION = version("chirp")
# The Mastodon API version this surface follows; clients parse the leading numbers.
MASTODON_VERSION = f"4.3.0 (compatible; Chirp {CHIRP_VERSION})"
TITLE = "Chirp"
DESCRIPTION = "An event-sourced social backend"
MAX_MEDIA_ATTACHMENTS = 4
IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]
VIDEO_TYPES = ["video/mp4", "video/webm"]
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.0"


def _configuration(request: Request) -> dict[str, object]:
    media_max_bytes = request.app.state.services.config.media_max_bytes
    return {
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
        "statuses": {
            "max_characters": MAX_TWEET_CHARS,
            "max_media_attachments": MAX_MEDIA_ATTACHMENTS,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": IMAGE_TYPES + VIDEO_TYPES,
            "image_size_limit": media_max_bytes,
            "image_matrix_limit": 16_777_216,
            "video_size_limit": media_max_bytes,
            "video_frame_rate_limit": 60,
            "video_matrix_limit": 2_304_000,
        },
        "polls": {
            "max_options": 0,
            "max_characters_per_option": 0,
            "min_expiration": 0,
            "max_expiration": 0,
        },
    }


def _domain(request: Request) -> str:
    return request.url.netloc


@router.get("/api/v1/instance")
async def instance_v1(request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    return json_response(
        {
            "uri": _domain(request),
            "title": TITLE,
            "short_description": DESCRIPTION,
            "description": DESCRIPTION,
            "email": "",
            "version": MASTODON_VERSION,
            "urls": {"streaming_api": base.replace("http", "ws", 1)},
            "stats": {"user_count": 0, "status_count": 0, "domain_count": 1},
            "thumbnail": None,
            "languages": ["en"],
            "registrations": True,
            "approval_required": False,
            "invites_enabled": False,
            "configuration": _configuration(request),
            "contact_account": None,
            "rules": [],
        }
    )


@router.get("/api/v2/instance")
async def instance_v2(request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    configuration = _configuration(request) | {
        "urls": {"streaming": base.replace("http", "ws", 1), "status": None},
        "translation": {"enabled": False},
        "vapid": {"public_key": ""},
    }
    return json_response(
        {
            "domain": _domain(request),
            "title": TITLE,
            "version": MASTODON_VERSION,
            "source_url": "",
            "description": DESCRIPTION,
            "usage": {"users": {"active_month": 0}},
            "thumbnail": {"url": f"{base}/static/header.png"},
            "languages": ["en"],
            "configuration": configuration,
            "registrations": {"enabled": True, "approval_required": False, "message": None},
            "api_versions": {"mastodon": 2},
            "contact": {"email": "", "account": None},
            "rules": [],
        }
    )


@router.get("/api/v1/custom_emojis")
async def custom_emojis() -> Response:
    return json_response([])


@router.get("/.well-known/nodeinfo")
async def nodeinfo_links(request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    return json_response({"links": [{"rel": NODEINFO_SCHEMA, "href": f"{base}/nodeinfo/2.0"}]})


@router.get("/nodeinfo/2.0")
async def nodeinfo() -> Response:
    return json_response(
        {
            "version": "2.0",
            "software": {"name": "chirp", "version": CHIRP_VERSION},
            "protocols": [],
            "services": {"outbound": [], "inbound": []},
            "usage": {"users": {"total": 0}, "localPosts": 0},
            "openRegistrations": True,
            "metadata": {"nodeName": TITLE},
        }
    )
