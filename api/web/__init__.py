"""The web client served at `/` (the JSON API stays under `/v1`) and the offline API docs."""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from api.rate_limits import is_web_page
from api.web import docs, routes
from api.web.static_files import STATIC_DIR, STATIC_URL


def install_web_client(app: FastAPI) -> None:
    """The pages, `/docs` and `/redoc`, and the static files they use; a page that does not
    exist is an HTML page too (the JSON API keeps its problem+json). Installed after the
    problem handlers, whose answer it keeps for everything else."""
    app.include_router(docs.router)
    app.include_router(routes.router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    as_problem = app.exception_handlers[HTTPException]

    async def on_http_error(request: Request, error: Exception) -> Response:
        missing = isinstance(error, HTTPException) and error.status_code == 404
        if missing and is_web_page(request.url.path):
            return routes.error_answer(request, 404, "There is no such page.")
        answer = as_problem(request, error)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(HTTPException, on_http_error)
