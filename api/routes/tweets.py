"""Tweets: post, read, delete, like, retweet, threads and who liked them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from api.auth import Caller
from api.deps import CorrelationId, CurrentUser, Freshness, Paging, Services, reads
from api.hydration import HYDRATION_PROJECTIONS, TweetSources, fill_page, hydrate
from api.models import PostTweetRequest, ThreadOut, TweetOut, UserPage
from api.problems import Problem
from api.responses import created, json_response, no_content
from api.routes.users import user_list
from api.services import ApiServices
from api.views import JsonObject, tweet_view
from domain.clock import now_ms
from domain.commands import DeleteTweet, GeoPoint, PostTweet
from domain.events import Event
from domain.ids import parse_id
from domain.model import delete_tweet, like, post_tweet, retweet, undo_retweet, unlike
from projections.base import Namespace
from projections.likes import likers_key
from projections.tweets import StoredTweet, live_tweet, reply_page, retweet_of_user, stored_tweet
from projections.users import UserProfile

router = APIRouter(prefix="/v1/tweets", tags=["tweets"])

TweetIdPath = Annotated[str, Path(max_length=20, description="Tweet id (decimal string)")]
MAX_THREAD_DEPTH = 100
# Writes that check a tweet exists honour `Chirp-After` too, so a client can act on its own
# fresh tweet at once.
WaitsForTweets = Annotated[Freshness, Depends(reads("tweets"))]


def tweet_not_found(tweet_id: object) -> Problem:
    return Problem(404, f"no tweet with id {tweet_id}", title="Tweet not found")


def tweet_url(tweet_id: str) -> str:
    return f"/v1/tweets/{tweet_id}"


async def existing_tweet(services: ApiServices, tweet_id: str | int) -> tuple[int, StoredTweet]:
    """A live, original tweet (not deleted, not a retweet entry); 404 otherwise."""
    parsed = parse_id(str(tweet_id))
    tweets = (await services.read_models.namespaces("tweets"))["tweets"]
    found = await live_tweet(services.redis, tweets, parsed) if parsed else None
    if parsed is None or found is None:
        raise tweet_not_found(tweet_id)
    return parsed, found


@router.post("", status_code=201, response_model=TweetOut, responses={401: {}, 404: {}, 422: {}})
async def post(
    body: PostTweetRequest,
    caller: CurrentUser,
    services: Services,
    _fresh: WaitsForTweets,
    correlation_id: CorrelationId = None,
) -> Response:
    """Post a tweet (up to 280 characters), optionally replying to or quoting another."""
    for referenced in filter(None, (body.reply_to, body.quote_of)):
        await existing_tweet(services, referenced)
    command = PostTweet(
        author_id=caller.user_id,
        text=body.text,
        reply_to=int(body.reply_to) if body.reply_to else None,
        quote_of=int(body.quote_of) if body.quote_of else None,
        media_ids=tuple(int(media_id) for media_id in body.media_ids),
        location=GeoPoint(body.location.lat, body.location.lon) if body.location else None,
    )
    event = post_tweet(command, tweet_id=services.ids.next_id(), now_ms=now_ms())
    position = await services.publisher.publish(event, correlation_id=correlation_id)
    # The author's name comes from the token: no read on the write path.
    author = UserProfile(caller.user_id, caller.handle, caller.display_name, 0)
    payload = tweet_view(stored_tweet(event), {caller.user_id: author})
    payload["tweet_url"] = tweet_url(payload["id"])
    return created(payload, location=payload["tweet_url"], position=position)


@router.get("/{tweet_id}", response_model=TweetOut, responses={404: {}})
async def get_tweet(
    tweet_id: TweetIdPath,
    services: Services,
    freshness: Annotated[Freshness, Depends(reads(*HYDRATION_PROJECTIONS))],
) -> Response:
    """One tweet (or retweet entry) with its counts."""
    parsed = parse_id(tweet_id)
    if parsed is None:
        raise tweet_not_found(tweet_id)
    spaces = await services.read_models.namespaces(*HYDRATION_PROJECTIONS)
    found = await hydrate(services.redis, TweetSources.of(spaces), [parsed])
    if parsed not in found:
        raise tweet_not_found(tweet_id)
    payload = found[parsed] | {"tweet_url": tweet_url(tweet_id)}
    return json_response(payload, headers=freshness.headers())


@dataclass(frozen=True, slots=True)
class TweetAction:
    """A write by the caller on a live tweet: like, retweet, delete and their undos."""

    tweet_id: int
    tweet: StoredTweet
    caller: Caller
    services: ApiServices
    correlation_id: str | None

    async def publish(self, event: Event | None) -> Response:
        """204, with the position of the event if there is one to produce."""
        if event is None:
            return no_content()
        publisher = self.services.publisher
        return no_content(await publisher.publish(event, correlation_id=self.correlation_id))


async def tweet_action(
    tweet_id: TweetIdPath,
    caller: CurrentUser,
    services: Services,
    _fresh: WaitsForTweets,
    correlation_id: CorrelationId = None,
) -> TweetAction:
    parsed, tweet = await existing_tweet(services, tweet_id)
    return TweetAction(parsed, tweet, caller, services, correlation_id)


OnTweet = Annotated[TweetAction, Depends(tweet_action)]


@router.delete("/{tweet_id}", status_code=204, responses={403: {}, 404: {}})
async def delete(action: OnTweet) -> Response:
    """Delete one of your tweets; it disappears from every timeline, thread and count."""
    tweet = action.tweet
    command = DeleteTweet(
        tweet_id=action.tweet_id,
        author_id=int(tweet["author_id"]),
        requested_by=action.caller.user_id,
        created_at_ms=tweet["created_at_ms"],
        reply_to=int(tweet["reply_to"]) if tweet["reply_to"] else None,
        hashtags=tuple(tweet["hashtags"]),
    )
    return await action.publish(delete_tweet(command, now_ms=now_ms()))  # not the author: 403


@router.put("/{tweet_id}/like", status_code=204, responses={404: {}})
async def like_tweet(action: OnTweet) -> Response:
    """Like a tweet (liking twice is the same as once)."""
    return await action.publish(like(action.tweet_id, action.caller.user_id, now_ms=now_ms()))


@router.delete("/{tweet_id}/like", status_code=204, responses={404: {}})
async def unlike_tweet(action: OnTweet) -> Response:
    """Take back a like (idempotent)."""
    return await action.publish(unlike(action.tweet_id, action.caller.user_id, now_ms=now_ms()))


@router.put("/{tweet_id}/retweet", status_code=204, responses={404: {}})
async def retweet_tweet(action: OnTweet) -> Response:
    """Retweet to your followers (retweeting twice is the same as once)."""
    services, user_id = action.services, action.caller.user_id
    tweets = (await services.read_models.namespaces("tweets"))["tweets"]
    if await retweet_of_user(services.redis, tweets, action.tweet_id, user_id) is not None:
        return await action.publish(None)
    retweet_id = services.ids.next_id()
    return await action.publish(
        retweet(action.tweet_id, user_id, retweet_id=retweet_id, now_ms=now_ms())
    )


@router.delete("/{tweet_id}/retweet", status_code=204, responses={404: {}})
async def undo_retweet_tweet(action: OnTweet) -> Response:
    """Take back a retweet (idempotent)."""
    event = undo_retweet(action.tweet_id, action.caller.user_id, now_ms=now_ms())
    return await action.publish(event)


@router.get("/{tweet_id}/liking_users", response_model=UserPage, responses={404: {}})
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
        found = await hydrate(services.redis, sources, [int(parent)])
        if int(parent) not in found:
            break
        chain.append(found[int(parent)])
        parent = found[int(parent)]["reply_to"]
    return list(reversed(chain))


@router.get("/{tweet_id}/thread", response_model=ThreadOut, responses={404: {}})
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
    found = await hydrate(services.redis, sources, [parsed])
    if parsed not in found:
        raise tweet_not_found(tweet_id)
    tweet = found[parsed]
    tweets: Namespace = spaces["tweets"]

    async def fetch(after: int | None, count: int) -> list[int]:
        ids, _ = await reply_page(services.redis, tweets, parsed, limit=count, after=after)
        return ids

    async def resolve(ids: list[int]) -> dict[int, JsonObject]:
        return await hydrate(services.redis, sources, ids)

    replies, next_cursor = await fill_page(fetch, resolve, limit=paging.limit, cursor=paging.before)
    payload = {
        "ancestors": await ancestors_of(services, sources, tweet),
        "tweet": tweet,
        "replies": replies,
        "next_cursor": next_cursor,
    }
    return json_response(payload, headers=freshness.headers())
