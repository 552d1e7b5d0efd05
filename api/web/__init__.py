"""The web client served at `/` (the JSON API stays under `/v1`) and the offline API docs."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from api.web import docs, routes
from api.web.static_files import STATIC_DIR, STATIC_URL


def install_web_client(app: FastAPI) -> None:
    """The pages, `/docs` and `/redoc`, and the static files they use."""
    app.include_router(docs.router)
    app.include_router(routes.router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
