"""Errors as RFC 9457 `application/problem+json`, with stable titles, for every failure."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from api.node_lease import NodeLeaseLost
from api.surfaces import is_mastodon_path
from api.use_cases.errors import (
    EmailTaken,
    HandleTaken,
    ListNotFound,
    MediaNotAccepted,
    MediaUnusable,
    PasswordMismatch,
    ReadModelBehind,
    Refused,
    TweetNotFound,
    UserNotFound,
    WrongCredentials,
)
from domain.errors import DomainError, NotTheAuthor
from schemas.sealing import KeyDestroyed

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# Each refusal a use case can raise: its status, title and headers.
REFUSALS: dict[type[Refused], tuple[int, str, dict[str, str] | None]] = {
    TweetNotFound: (404, "Tweet not found", None),
    UserNotFound: (404, "User not found", None),
    ListNotFound: (404, "List not found", None),
    HandleTaken: (409, "Handle taken", None),
    EmailTaken: (409, "Email taken", None),
    ReadModelBehind: (503, "Service unavailable", {"Retry-After": "1"}),
    WrongCredentials: (401, "Unauthorized", {"WWW-Authenticate": "Bearer"}),
    PasswordMismatch: (403, "Password mismatch", None),
    MediaNotAccepted: (415, "Unsupported media type", None),
    MediaUnusable: (422, "Unusable media", None),
}


class Problem(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.headers = headers
        self.extra = extra or {}


# The errors a surface renders in its own form (a page, or Mastodon's `{"error": ...}`).
READABLE_ERRORS = (Problem, Refused, DomainError, RequestValidationError, ValidationError)


def readable(error: Exception) -> tuple[int, str]:
    """A refusal as a status and a sentence for a person."""
    if isinstance(error, Problem):
        return error.status, error.detail
    if isinstance(error, Refused):
        status = REFUSALS.get(type(error), (400, "", None))[0]
        return status, str(error)
    if isinstance(error, NotTheAuthor):
        return 403, str(error)
    if isinstance(error, DomainError):
        return 422, str(error)
    if isinstance(error, RequestValidationError | ValidationError):
        messages = []
        for item in error.errors():
            where = " ".join(str(part) for part in item.get("loc", ())[1:])
            messages.append(f"{where}: {item.get('msg', 'invalid')}" if where else item["msg"])
        return 422, "; ".join(messages) or "the request is not valid"
    raise error


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    title = title or HTTPStatus(status).phrase
    body = {
        "type": f"https://chirp.dev/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        **(extra or {}),
    }
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_JSON
    )


def refusal_for(
    path: str,
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A middleware's refusal in the form of the surface the path belongs to: Mastodon's
    `{"error": ...}` under its paths, problem+json everywhere else."""
    if is_mastodon_path(path):
        body = orjson.dumps({"error": detail})
        return Response(body, status_code=status, headers=headers, media_type="application/json")
    return problem_response(status, detail, title=title, headers=headers)


def _validation_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(part) for part in item.get("loc", ())], "msg": item.get("msg", "")}
        for item in error.errors()
    ]


def allowed_methods(request: Request) -> str:
    """The methods the OpenAPI document lists for the request's path: a route serves one
    method here, so the route that answered 405 would name only its own."""
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    methods = {
        method.upper()
        for template, operations in paths.items()
        if compile_path(template)[0].match(request.url.path)
        for method in operations
    }
    return ", ".join(sorted(methods))


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(_: Request, error: Problem) -> Response:
        return problem_response(
            error.status, error.detail, title=error.title, headers=error.headers, extra=error.extra
        )

    @app.exception_handler(Refused)
    async def on_refused(_: Request, error: Refused) -> Response:
        status, title, headers = REFUSALS[type(error)]
        return problem_response(status, str(error), title=title, headers=headers)

    @app.exception_handler(DomainError)
    async def on_domain_error(_: Request, error: DomainError) -> Response:
        if isinstance(error, NotTheAuthor):
            return problem_response(403, str(error), title="Forbidden")
        return problem_response(422, str(error), title="Invalid request")

    @app.exception_handler(KeyDestroyed)
    async def on_key_destroyed(_: Request, error: KeyDestroyed) -> Response:
        # A write racing its own account's erasure: the account is nobody now.
        return problem_response(401, "the account is being erased", title="Unauthorized")

    @app.exception_handler(NodeLeaseLost)
    async def on_node_lease_lost(_: Request, error: NodeLeaseLost) -> Response:
        # Brief: the lease is claimed again within a third of its TTL.
        headers = {"Retry-After": "5"}
        return problem_response(503, str(error), title="Service unavailable", headers=headers)

    @app.exception_handler(KafkaError)
    async def on_kafka_error(_: Request, error: KafkaError) -> Response:
        log.warning("Kafka refused or timed out a write: %r", error)
        headers = {"Retry-After": "1"}
        detail = "the event log did not acknowledge the write; it may or may not be recorded"
        return problem_response(503, detail, title="Service unavailable", headers=headers)

    @app.exception_handler(RedisError)
    async def on_redis_error(_: Request, error: RedisError) -> Response:
        log.warning("Redis failed a request: %r", error)
        headers = {"Retry-After": "1"}
        detail = "the read models are unreachable or restarting; try again shortly"
        return problem_response(503, detail, title="Service unavailable", headers=headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_: Request, error: RequestValidationError) -> Response:
        errors = _validation_errors(error)
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors) or "invalid request"
        return problem_response(422, detail, title="Invalid request", extra={"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, error: StarletteHTTPException) -> Response:
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return problem_response(error.status_code, str(error.detail), headers=headers)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "an unexpected error occurred; it has been logged")
