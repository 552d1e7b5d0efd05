"""The Mastodon client API: a second HTTP surface (`/api/v1`, `/api/v2`, `/oauth`,
`/.well-known`, `/nodeinfo`) over the same use cases and read models as `/v1`, so that apps
and libraries written for Mastodon work with Chirp. It adds no event and no read model of
its own; only OAuth apps and tokens are its own state (`tokens.py`)."""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.mastodon import (
    accounts,
    authorize,
    bookmarks,
    instance,
    lists,
    markers,
    media,
    notifications,
    oauth,
    search,
    statuses,
    streaming,
    timelines,
    trends,
)
from api.mastodon.errors import NOT_FOUND, error_response, is_mastodon_path
from api.mastodon.tokens import OAuthStore

ROUTERS = (
    oauth.router,
    authorize.router,
    instance.router,
    accounts.router,
    media.router,
    notifications.router,
    search.router,
    trends.router,
    lists.router,
    bookmarks.router,
    markers.router,
    streaming.router,
    statuses.router,
    timelines.router,
)


def install_mastodon_api(app: FastAPI) -> None:
    """The routers, and Mastodon's error form for unknown paths and methods under them.
    Installed after the problem handlers (and the web client's), whose answers it keeps for
    every other path. The OAuth store is set up with the services (`attach_oauth_store`)."""
    for router in ROUTERS:
        app.include_router(router)
    previous = app.exception_handlers[HTTPException]

    async def on_http_error(request: Request, error: Exception) -> Response:
        if isinstance(error, HTTPException) and is_mastodon_path(request.url.path):
            message = NOT_FOUND if error.status_code == 404 else str(error.detail)
            return error_response(error.status_code, message, getattr(error, "headers", None))
        answer = previous(request, error)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(HTTPException, on_http_error)


def attach_oauth_store(app: FastAPI) -> None:
    app.state.oauth = OAuthStore(app.state.services.redis)
