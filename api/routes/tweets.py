"""Tweets: posting and reading one."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from api.deps import CorrelationId, CurrentUser, Freshness, Services, reads
from api.hydration import hydrate_tweets
from api.models import PostTweetRequest, TweetOut
from api.problems import Problem
from api.responses import created, json_response
from api.views import tweet_view
from domain.commands import GeoPoint, PostTweet
from domain.ids import parse_id
from domain.model import post_tweet
from projections.tweets import stored_tweet, tweets_by_id
from projections.users import profiles

router = APIRouter(prefix="/v1/tweets", tags=["tweets"])

TweetIdPath = Annotated[str, Path(max_length=20, description="Tweet id (decimal string)")]


def tweet_not_found(tweet_id: str) -> Problem:
    return Problem(404, f"no tweet with id {tweet_id}", title="Tweet not found")


def tweet_url(tweet_id: str) -> str:
    return f"/v1/tweets/{tweet_id}"


@router.post("", status_code=201, response_model=TweetOut, responses={401: {}, 404: {}, 422: {}})
async def post(
    body: PostTweetRequest,
    caller: CurrentUser,
    services: Services,
    correlation_id: CorrelationId = None,
) -> Response:
    """Post a tweet (up to 280 characters), optionally replying to or quoting another."""
    spaces = await services.read_models.namespaces("tweets", "users")
    for referenced in filter(None, (body.reply_to, body.quote_of)):
        if not await tweets_by_id(services.redis, spaces["tweets"], [int(referenced)]):
            raise tweet_not_found(referenced)
    command = PostTweet(
        author_id=caller.user_id,
        text=body.text,
        reply_to=int(body.reply_to) if body.reply_to else None,
        quote_of=int(body.quote_of) if body.quote_of else None,
        media_ids=tuple(int(media_id) for media_id in body.media_ids),
        location=GeoPoint(body.location.lat, body.location.lon) if body.location else None,
    )
    now_ms = time.time_ns() // 1_000_000
    event = post_tweet(command, tweet_id=services.ids.next_id(), now_ms=now_ms)
    position = await services.publisher.publish(
        event, occurred_at_ms=now_ms, correlation_id=correlation_id
    )
    authors = await profiles(services.redis, spaces["users"], [caller.user_id])
    payload = tweet_view(stored_tweet(event), authors)
    payload["tweet_url"] = tweet_url(payload["id"])
    return created(payload, location=payload["tweet_url"], position=position)


@router.get("/{tweet_id}", response_model=TweetOut, responses={404: {}})
async def get_tweet(
    tweet_id: TweetIdPath,
    services: Services,
    freshness: Annotated[Freshness, Depends(reads("tweets", "users"))],
) -> Response:
    """One tweet with its counts."""
    parsed = parse_id(tweet_id)
    if parsed is None:
        raise tweet_not_found(tweet_id)
    spaces = await services.read_models.namespaces("tweets", "users")
    found = await hydrate_tweets(
        services.redis, tweets=spaces["tweets"], users=spaces["users"], tweet_ids=[parsed]
    )
    if not found:
        raise tweet_not_found(tweet_id)
    payload = found[0] | {"tweet_url": tweet_url(tweet_id)}
    return json_response(payload, headers=freshness.headers())
