"""Accounts: the caller's own (`verify_credentials`), others by id or handle, follows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api.mastodon.context import Masto, scoped
from api.mastodon.entities import account_entity
from api.mastodon.errors import MastodonRoute
from api.responses import body_of, json_response
from api.routes import users

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)

ReadAccounts = Annotated[Masto, Depends(scoped("read:accounts"))]


@router.get("/api/v1/accounts/verify_credentials")
async def verify_credentials(context: ReadAccounts) -> Response:
    fresh = await context.fresh(*users.PROFILE_PROJECTIONS)
    answer = await users.get_user(context.user.handle, context.services, fresh)
    entity = account_entity(body_of(answer), str(context.request.base_url))
    entity["source"] = {
        "privacy": "public",
        "sensitive": False,
        "language": "",
        "note": entity["note"],
        "fields": [],
        "follow_requests_count": 0,
    }
    return json_response(entity)
