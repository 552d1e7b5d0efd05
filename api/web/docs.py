"""The API documentation pages (`/docs`, `/redoc`) from vendored copies of Swagger UI and
ReDoc, so they render without internet (FastAPI's defaults load them from a CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse

from api.web.static_files import VENDORED

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=str(request.app.openapi_url),
        title=f"{request.app.title} - API documentation",
        swagger_js_url=VENDORED["swagger_js"],
        swagger_css_url=VENDORED["swagger_css"],
        swagger_favicon_url=VENDORED["favicon"],
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=str(request.app.openapi_url),
        title=f"{request.app.title} - API reference",
        redoc_js_url=VENDORED["redoc_js"],
        redoc_favicon_url=VENDORED["favicon"],
        with_google_fonts=False,
    )
