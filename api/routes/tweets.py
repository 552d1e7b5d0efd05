"""Tweets: post, read, delete, like, retweet, threads and who liked them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from api import contract
from api.deps import (
    JSON_POST,
    CorrelationId,
    CurrentUser,
    Freshness,
    Paging,
    Services,
    UseCasesDep,
    reads,
)
from api.hydration import HYDRATION_PROJECTIONS, TweetSources, fill_page, hydrate
from api.models import PostTweetRequest, ThreadOut, TweetOut, UserPage
from api.responses import created, json_response, no_content
from api.routes.users import user_list
from api.services import ApiServices
from api.use_cases.errors import TweetNotFound
from api.views import JsonObject, tweet_view
from domain.commands import GeoPoint, PostTweet
from domain.ids import parse_id
from projections.base import Namespace
from projections.likes import likers_key
from projections.tweets import StoredTweet, live_tweet, reply_page, stored_tweet
from projections.users import UserProfile

router = APIRouter(prefix="/v1/tweets", tags=["tweets"])

TweetIdPath = Annotated[str, Path(max_length=20, description="Tweet id (decimal string)")]
MAX_THREAD_DEPTH = 100
# Writes that check a tweet exists honour `Chirp-After` too. They skip the lookup of the
# caller's own writes: a tweet posted moments ago, by anyone, is waited for by the use case
# (its id is young), so a write pays no extra Redis command for it.
WaitsForTweets = Annotated[Freshness, Depends(reads("tweets", own_writes=False))]


def tweet_id_in_path(tweet_id: str) -> int:
    """The id a path names; a text that cannot be an id names no tweet (404)."""
    parsed = parse_id(tweet_id)
    if parsed is None:
        raise TweetNotFound(tweet_id)
    return parsed


def tweet_url(tweet_id: str) -> str:
    return f"/v1/tweets/{tweet_id}"


async def existing_tweet(services: ApiServices, tweet_id: str) -> tuple[int, StoredTweet]:
    """A live, original tweet (not deleted, not a retweet entry); 404 otherwise."""
    parsed = tweet_id_in_path(tweet_id)
    tweets = (await services.read_models.namespaces("tweets"))["tweets"]
    found = await live_tweet(services.redis, tweets, parsed)
    if found is None:
        raise TweetNotFound(tweet_id)
    return parsed, found


@router.post(
    "",
    status_code=201,
    response_model=TweetOut,
    responses=contract.created(400, 401, 404, 409, 413, 415),
    dependencies=JSON_POST,
)
async def post(
    body: PostTweetRequest,
    caller: CurrentUser,
    use_cases: UseCasesDep,
    _fresh: WaitsForTweets,
    correlation_id: CorrelationId = None,
) -> Response:
    """Post a tweet (up to 280 characters), optionally replying to or quoting another."""
    command = PostTweet(
        author_id=caller.user_id,
        text=body.text,
        reply_to=int(body.reply_to) if body.reply_to is not None else None,
        quote_of=int(body.quote_of) if body.quote_of is not None else None,
        media_ids=tuple(int(media_id) for media_id in body.media_ids),
        location=GeoPoint(body.location.lat, body.location.lon) if body.location else None,
    )
    posted = await use_cases.post_tweet(command, correlation_id=correlation_id)
    # The author's name comes from the token: no read on the write path.
    author = UserProfile(caller.user_id, caller.handle, caller.display_name, 0)
    payload = tweet_view(stored_tweet(posted.event), {caller.user_id: author})
    payload["tweet_url"] = tweet_url(payload["id"])
    return created(payload, location=payload["tweet_url"], position=posted.position)


@router.get("/{tweet_id}", response_model=TweetOut, responses=contract.read(404))
async def get_tweet(
    tweet_id: TweetIdPath,
    services: Services,
    freshness: Annotated[Freshness, Depends(reads(*HYDRATION_PROJECTIONS))],
) -> Response:
    """One tweet (or retweet entry) with its counts."""
    parsed = tweet_id_in_path(tweet_id)
    spaces = await services.read_models.namespaces(*HYDRATION_PROJECTIONS)
    found = await hydrate(services.redis, TweetSources.of(spaces), [parsed], services.profiles)
    if parsed not in found:
        raise TweetNotFound(tweet_id)
    payload = found[parsed] | {"tweet_url": tweet_url(tweet_id)}
    return json_response(payload, headers=freshness.headers())


@dataclass(frozen=True, slots=True)
class TweetWrite:
    """A write by the caller on the tweet named in the path: like, retweet, delete, undos."""

    tweet_id: int
    user_id: int
    correlation_id: str | None


async def tweet_write(
    tweet_id: TweetIdPath,
    caller: CurrentUser,
    _fresh: WaitsForTweets,
    correlation_id: CorrelationId = None,
) -> TweetWrite:
    return TweetWrite(tweet_id_in_path(tweet_id), caller.user_id, correlation_id)


OnTweet = Annotated[TweetWrite, Depends(tweet_write)]


@router.delete("/{tweet_id}", status_code=204, responses=contract.written(400, 401, 403, 404))
async def delete(write: OnTweet, use_cases: UseCasesDep) -> Response:
    """Delete one of your tweets; it disappears from every timeline, thread and count."""
    return no_content(
        await use_cases.delete_tweet(  # not the author: 403
            write.tweet_id, write.user_id, correlation_id=write.correlation_id
        )
    )


@router.put("/{tweet_id}/like", status_code=204, responses=contract.written(400, 401, 404))
async def like_tweet(write: OnTweet, use_cases: UseCasesDep) -> Response:
    """Like a tweet (liking twice is the same as once)."""
    return no_content(
        await use_cases.like(write.tweet_id, write.user_id, correlation_id=write.correlation_id)
    )


@router.delete("/{tweet_id}/like", status_code=204, responses=contract.written(400, 401, 404))
async def unlike_tweet(write: OnTweet, use_cases: UseCasesDep) -> Response:
    """Take back a like (idempotent)."""
    return no_content(
        await use_cases.unlike(write.tweet_id, write.user_id, correlation_id=write.correlation_id)
    )


@router.put("/{tweet_id}/retweet", status_code=204, responses=contract.written(400, 401, 404))
async def retweet_tweet(write: OnTweet, use_cases: UseCasesDep) -> Response:
    """Retweet to your followers (retweeting twice is the same as once)."""
    return no_content(
        await use_cases.retweet(write.tweet_id, write.user_id, correlation_id=write.correlation_id)
    )


@router.delete("/{tweet_id}/retweet", status_code=204, responses=contract.written(400, 401, 404))
async def undo_retweet_tweet(write: OnTweet, use_cases: UseCasesDep) -> Response:
    """Take back a retweet (idempotent)."""
    return no_content(
        await use_cases.undo_retweet(
            write.tweet_id, write.user_id, correlation_id=write.correlation_id
        )
    )


@router.get("/{tweet_id}/liking_users", response_model=UserPage, responses=contract.read(404))
async def liking_users(
    tweet_id: TweetIdPath,
    services: Services,
    paging: Paging,
    freshness: Annotated[Freshness, Depends(reads("tweets", "likes", "users"))],
) -> Response:
    """Who liked a tweet."""
    parsed, _ = await existing_tweet(services, tweet_id)
    spaces = await services.read_models.namespaces("likes", "users")
    key = likers_key(spaces["likes"], parsed)
    data, next_cursor = await user_list(services, spaces["users"], key, paging)
    return json_response({"data": data, "next_cursor": next_cursor}, headers=freshness.headers())


async def ancestors_of(
    services: ApiServices, sources: TweetSources, tweet: JsonObject
) -> list[JsonObject]:
    """The chain of tweets this one replies to, root first, up to a deleted or missing one."""
    chain: list[JsonObject] = []
    parent = tweet["reply_to"]
    while parent is not None and len(chain) < MAX_THREAD_DEPTH:
        found = await hydrate(services.redis, sources, [int(parent)], services.profiles)
        if int(parent) not in found:
            break
        chain.append(found[int(parent)])
        parent = found[int(parent)]["reply_to"]
    return list(reversed(chain))


@router.get("/{tweet_id}/thread", response_model=ThreadOut, responses=contract.read(404))
async def thread(
    tweet_id: TweetIdPath,
    services: Services,
    paging: Paging,
    freshness: Annotated[Freshness, Depends(reads(*HYDRATION_PROJECTIONS))],
) -> Response:
    """A tweet's ancestors (root first), the tweet, and its direct replies (oldest first)."""
    parsed, _ = await existing_tweet(services, tweet_id)
    spaces = await services.read_models.namespaces(*HYDRATION_PROJECTIONS)
    sources = TweetSources.of(spaces)
    found = await hydrate(services.redis, sources, [parsed], services.profiles)
    if parsed not in found:
        raise TweetNotFound(tweet_id)
    tweet = found[parsed]
    tweets: Namespace = spaces["tweets"]

    async def fetch(after: int | None, count: int) -> list[int]:
        ids, _ = await reply_page(services.redis, tweets, parsed, limit=count, after=after)
        return ids

    async def resolve(ids: list[int]) -> dict[int, JsonObject]:
        return await hydrate(services.redis, sources, ids, services.profiles)

    replies, next_cursor = await fill_page(fetch, resolve, limit=paging.limit, cursor=paging.before)
    payload = {
        "ancestors": await ancestors_of(services, sources, tweet),
        "tweet": tweet,
        "replies": replies,
        "next_cursor": next_cursor,
    }
    return json_response(payload, headers=freshness.headers())
