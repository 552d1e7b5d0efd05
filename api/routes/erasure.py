"""Account erasure: `DELETE /v1/users/me` with the account's password (docs/erasure.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.responses import Response

from api import contract
from api.deps import CorrelationId, CurrentUser, json_body
from api.models import Strict
from api.positions import POSITION_HEADER, encode_token
from api.responses import json_response
from api.use_cases.erasure import ErasureUseCases
from api.use_cases.erasure_adapters import erasure_use_cases
from api.views import iso_time

router = APIRouter(prefix="/v1/users", tags=["users"])

Erasures = Annotated[ErasureUseCases, Depends(erasure_use_cases)]


class EraseAccountRequest(Strict):
    password: str = Field(max_length=1024, description="The account's password, confirmed")


class ErasureOut(BaseModel):
    user_id: str
    erased_at: str
    tweets_deleted: int
    retweets_undone: int
    likes_removed: int
    follows_removed: int
    media_removed: int


WRONG_PASSWORD = contract.problems(401) | {
    403: {**contract.problems(403)[403], "description": "The password does not match"}
}


@router.delete(
    "/me",
    status_code=202,
    response_model=ErasureOut,
    responses={202: {"headers": contract.POSITION}}
    | contract.problems(400, 413, 415, 422, 503)
    | WRONG_PASSWORD,
    dependencies=[Depends(json_body)],
)
async def erase_account(
    body: EraseAccountRequest,
    caller: CurrentUser,
    erasures: Erasures,
    correlation_id: CorrelationId = None,
) -> Response:
    """Erase your account and everything it wrote; read models drop it as they apply the log."""
    published = await erasures.erase_account(
        caller.user_id, body.password, correlation_id=correlation_id
    )
    erased = published.event
    payload = {
        "user_id": str(erased.user_id),
        "erased_at": iso_time(erased.erased_at_ms),
        "tweets_deleted": erased.tweets_deleted,
        "retweets_undone": erased.retweets_undone,
        "likes_removed": erased.likes_removed,
        "follows_removed": erased.follows_removed,
        "media_removed": erased.media_removed,
    }
    headers = {POSITION_HEADER: encode_token(published.positions)}
    return json_response(payload, status=202, headers=headers)
