"""The answers each route documents besides its own success: problem+json errors and the
headers of reads and writes, written once and reused by every route's `responses=`.

A route lists the statuses it can answer, e.g. `responses=read(404)`; the helpers add what
every read or write can answer and describe each status, header and the `Problem` schema the
same way everywhere. Must never change what the API does: it only describes it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.models import ProblemOut
from api.positions import POSITION_HEADER, STALE_HEADER, TOKEN_SCHEMA
from api.problems import PROBLEM_JSON
from api.rate_limits import LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER, UNLIMITED_PATHS

Responses = dict[int | str, dict[str, Any]]

PROBLEM_SCHEMA = "Problem"

WHY: dict[int, str] = {
    400: "The `Chirp-After` header is not a valid position token",
    401: "No valid bearer token",
    403: "Only the author may do this",
    404: "The tweet, user or media named does not exist",
    409: "The handle is taken, or this `Idempotency-Key` is still running or was used with "
    "another body",
    413: "The request body is larger than the API accepts",
    415: "The request body is not JSON, or an upload is no supported image or video",
    416: "The `Range` asks for no byte of the stored object",
    422: "The request is not valid (each invalid part in `errors` when the schema says why), "
    "or an upload cannot be decoded",
    429: "More requests from this caller (user, else client address) than the route family's "
    "limit allows; retry after `Retry-After`",
    503: "Kafka or this process's id lease is unavailable; retry after `Retry-After`",
}

_TEXT = {"type": "string"}
PROBLEM_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "schema": _TEXT, "required": True}},
    503: {
        "Retry-After": {
            "description": "Seconds",
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds until the window has room again",
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
            "required": True,
        }
    },
}
_COUNT = {"type": "string", "pattern": "^[0-9]+$"}
# On every answer of a limited route (absent only while the limiter's Redis fails).
RATE_LIMIT_HEADERS: dict[str, Any] = {
    LIMIT_HEADER: {"description": "Requests the caller's window allows", "schema": _COUNT},
    REMAINING_HEADER: {"description": "Requests left in the window", "schema": _COUNT},
    RESET_HEADER: {
        "description": "Unix time (seconds) when the oldest request leaves the window",
        "schema": _COUNT,
    },
}
POSITION = {
    POSITION_HEADER: {
        "description": "Where the write's event sits in the log: send it back as `Chirp-After` "
        "to read it from any client",
        "schema": TOKEN_SCHEMA,
    }
}
STALE = {
    STALE_HEADER: {
        "description": "Present when the answer may miss writes the request asked to see",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def problems(*statuses: int) -> Responses:
    """One problem+json answer per status."""
    return {
        status: {
            "description": WHY[status],
            "content": {
                PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}}
            },
            **({"headers": PROBLEM_HEADERS[status]} if status in PROBLEM_HEADERS else {}),
        }
        for status in sorted(set(statuses))
    }


def read(*statuses: int) -> Responses:
    """A read: 200, perhaps stale; a bad `Chirp-After` (400) or parameter (422)."""
    return {200: {"headers": STALE}} | problems(400, 422, *statuses)


def created(*statuses: int) -> Responses:
    """A write that made something: 201 with its `Location` and `Chirp-Position`."""
    headers = {
        "Location": {"description": "Where to read it", "schema": _TEXT, "required": True},
        POSITION_HEADER: {**POSITION[POSITION_HEADER], "required": True},
    }
    return {201: {"headers": headers}} | problems(422, 503, *statuses)


def written(*statuses: int) -> Responses:
    """A write answered with 204 and, when it produced an event, its `Chirp-Position`."""
    return {204: {"headers": POSITION}} | problems(422, 503, *statuses)


def install_problem_schema(app: FastAPI) -> None:
    """Put the `Problem` schema the error answers refer to into the document's components.

    FastAPI files a response `model` under the route's own media type (`application/json`),
    so the problem answers refer to the schema by name and it is added here.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        if PROBLEM_SCHEMA not in schemas:
            schema = ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[PROBLEM_SCHEMA] = schema | {"title": PROBLEM_SCHEMA}
            document_rate_limits(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def document_rate_limits(document: dict[str, Any]) -> None:
    """Every limited operation may answer 429, and every answer it gives carries the limit's
    headers (`api.rate_limits`); ops endpoints are not limited."""
    for path, operations in document.get("paths", {}).items():
        if path in UNLIMITED_PATHS:
            continue
        for operation in operations.values():
            answers: Responses = operation.setdefault("responses", {})
            answers.update({str(status): answer for status, answer in problems(429).items()})
            for answer in answers.values():
                answer["headers"] = {**answer.get("headers", {}), **RATE_LIMIT_HEADERS}
