"""The ASGI entry point for uvicorn (`--factory infra.asgi:create`): settings from the env."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from infra.settings import Settings
from infra.wiring import api_config


def create() -> FastAPI:
    return create_app(api_config(Settings()))
