"""The baseline server: Chirp's HTTP stack (FastAPI, uvicorn, uvloop, httptools, orjson
responses, the body size limit) answering without Kafka or Redis: a POST that returns 201
a GET that returns 20 canned tweets, an upload that reads the file and returns 201, and an
event stream that sends one `ready` event and then only heartbeats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import FastAPI, File, UploadFile
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.responses import Response

from api.body_limit import BodySizeLimit
from api.models import PostTweetRequest

CANNED_TWEET = {
    "id": "913251249103572992",
    "author": {"id": "913251246733791232", "handle": "ada", "display_name": "Ada"},
    "text": "a canned tweet of ordinary length, with a #hashtag and a @mention in it",
    "created_at": "2026-11-25T02:14:25.174+00:00",
    "reply_to": None,
    "quote_of": None,
    "retweet_of": None,
    "media": [],
    "location": None,
    "hashtags": ["hashtag"],
    "mentions": ["mention"],
    "like_count": 3,
    "retweet_count": 1,
    "reply_count": 0,
}
CANNED_PAGE = orjson.dumps({"data": [CANNED_TWEET] * 20, "next_cursor": "913251249103572992"})


def create() -> FastAPI:
    app = FastAPI()
    app.add_middleware(
        BodySizeLimit, max_bytes=64 * 1024, larger_limits={"/baseline/media": 16 * 1024 * 1024}
    )

    @app.post("/baseline/tweets")
    async def post_tweet(body: PostTweetRequest) -> Response:  # parsed like the real route
        return Response(orjson.dumps(CANNED_TWEET), status_code=201, media_type="application/json")

    @app.post("/baseline/media")
    async def upload(file: Annotated[UploadFile, File()]) -> Response:  # read like the real route
        data = await file.read()
        return Response(orjson.dumps({"bytes": len(data)}), 201, media_type="application/json")

    @app.get("/baseline/timeline")
    async def timeline() -> Response:
        return Response(CANNED_PAGE, media_type="application/json")

    @app.get("/baseline/stream")
    async def stream() -> EventSourceResponse:  # an idle stream, like the real one's
        async def events() -> AsyncIterator[ServerSentEvent]:
            yield ServerSentEvent(data="{}", event="ready", id="0-0")
            await asyncio.Event().wait()  # until the client goes away
            yield ServerSentEvent(data="{}")  # never reached

        return EventSourceResponse(events(), ping=15)

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b"{}", media_type="application/json")

    return app
