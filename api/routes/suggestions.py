"""Who to follow: accounts followed by the people you follow, or the most-followed ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from api import contract
from api.deps import CurrentUser, Freshness, Services, reads
from api.models import UserSummary
from api.responses import json_response
from api.views import user_summary
from projections.follow_graph import suggestions
from projections.users import profiles

router = APIRouter(prefix="/v1/suggestions", tags=["follows"])


class SuggestionsQuery(BaseModel):
    """An unknown parameter is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=100, description="Accounts to suggest")


class SuggestionOut(UserSummary):
    followers_count: int
    followed_by_count: int = Field(description="How many of the accounts you follow follow it")


class SuggestionPage(BaseModel):
    data: list[SuggestionOut]
    next_cursor: None = None


@router.get("", response_model=SuggestionPage, responses=contract.read(401))
async def suggest(
    caller: CurrentUser,
    services: Services,
    query: Annotated[SuggestionsQuery, Query()],
    freshness: Annotated[Freshness, Depends(reads("users", "follow_graph"))],
) -> Response:
    """Accounts to follow, most followed by the people you follow first (never you, never
    someone you follow); the most-followed accounts when you follow nobody."""
    spaces = await services.read_models.namespaces("users", "follow_graph")
    found = await suggestions(
        services.redis, spaces["follow_graph"], caller.user_id, limit=query.limit
    )
    users = await profiles(services.redis, spaces["users"], [s.user_id for s in found])
    data = [
        {
            **user_summary(users[s.user_id]),
            "followers_count": s.followers,
            "followed_by_count": s.followed_by,
        }
        for s in found
        if s.user_id in users
    ]
    return json_response({"data": data, "next_cursor": None}, headers=freshness.headers())
