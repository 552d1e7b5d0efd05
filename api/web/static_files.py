"""Where the web client's static files live and the URLs of the pinned vendored copies
(versions and sources in `static/vendor/VENDORED.md`)."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static"
HTMX_VERSION = "2.0.11"
SWAGGER_UI_VERSION = "5.35.0"
REDOC_VERSION = "2.5.4"

VENDORED = {
    "htmx": f"{STATIC_URL}/vendor/htmx-{HTMX_VERSION}.min.js",
    "swagger_js": f"{STATIC_URL}/vendor/swagger-ui-bundle-{SWAGGER_UI_VERSION}.js",
    "swagger_css": f"{STATIC_URL}/vendor/swagger-ui-{SWAGGER_UI_VERSION}.css",
    "redoc_js": f"{STATIC_URL}/vendor/redoc.standalone-{REDOC_VERSION}.js",
    "favicon": f"{STATIC_URL}/vendor/favicon-32x32.png",
}
