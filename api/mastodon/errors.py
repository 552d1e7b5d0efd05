"""Errors on the Mastodon surface: `{"error": "..."}` with Mastodon's status codes, not
problem+json. Routes use `MastodonRoute`, which renders every refusal the `/v1` surface
knows in this form."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from api.problems import READABLE_ERRORS, readable
from api.responses import json_response
from api.surfaces import is_mastodon_path as is_mastodon_path  # re-exported

INVALID_TOKEN = "The access token is invalid"  # noqa: S105 - a message, not a secret
OUTSIDE_SCOPES = "This action is outside the authorized scopes"
NOT_FOUND = "Record not found"


class MastodonError(Exception):
    """Raise to answer `{"error": message}` with this status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": message}, status=status, headers=headers)


def answer_for(error: Exception) -> Response:
    """Mastodon's answer to a refusal raised by a use case, a `/v1` route or validation."""
    if isinstance(error, MastodonError):
        return error_response(error.status, error.message, error.headers)
    status, message = readable(error)
    if status == 404:
        message = NOT_FOUND
    elif status == 401:
        message = INVALID_TOKEN
    elif status == 422 and not message.startswith("Validation failed"):
        message = f"Validation failed: {message}"
    return error_response(status, message, getattr(error, "headers", None))


class MastodonRoute(APIRoute):
    """A route whose refusals answer in Mastodon's error form."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except (MastodonError, *READABLE_ERRORS) as error:
                return answer_for(error)

        return handle
