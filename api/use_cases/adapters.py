"""The use cases' ports backed by what the API runs on: Redis read models, the Kafka publisher,
the id generator, argon2 and the token issuer, all taken from `ApiServices`.

Owns the handle-claim keys (`chirp:claims:handle:{handle}`). Reads go through the serving
version of each projection; must never write a projection's keys (the home-timeline hold is
the projection's own `hold_for_follow`).
"""

from __future__ import annotations

import logging
from functools import partial

from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool

from api.auth import Passwords
from api.lag import caught_up_with_log
from api.media_processing import ProcessedMedia
from api.media_processing import process as process_media
from api.recent_writes import remember_write
from api.services import ApiServices
from api.use_cases.handlers import UseCases
from api.use_cases.ports import Account, LiveTweet, Upload
from domain.clock import now_ms
from projections.follow_graph import is_following
from projections.home_timelines import hold_for_follow
from projections.media import media_description
from projections.tweets import StoredTweet, live_tweet, retweet_of_user
from projections.users import (
    email_of,
    password_hash,
    profiles,
    user_id_for_email,
    user_id_for_handle,
)
from schemas.log import Position

log = logging.getLogger(__name__)

HANDLE_CLAIM_PREFIX = "chirp:claims:handle:"


def live_tweet_of(stored: StoredTweet) -> LiveTweet:
    return LiveTweet(
        tweet_id=int(stored["id"]),
        author_id=int(stored["author_id"]),
        created_at_ms=stored["created_at_ms"],
        reply_to=int(stored["reply_to"]) if stored["reply_to"] else None,
        hashtags=tuple(stored["hashtags"]),
    )


class TweetsReadModel:
    """`TweetLookup` over the serving version of the tweets projection."""

    def __init__(self, services: ApiServices) -> None:
        self.services = services
        self.redis = services.redis
        self.read_models = services.read_models

    async def catch_up(self) -> None:
        await caught_up_with_log(self.services, "tweets", self.services.config.young_id_s)

    async def live_tweet(self, tweet_id: int) -> LiveTweet | None:
        tweets = (await self.read_models.namespaces("tweets"))["tweets"]
        found = await live_tweet(self.redis, tweets, tweet_id)
        return live_tweet_of(found) if found is not None else None

    async def retweet_by(self, tweet_id: int, user_id: int) -> int | None:
        tweets = (await self.read_models.namespaces("tweets"))["tweets"]
        return await retweet_of_user(self.redis, tweets, tweet_id, user_id)


class UsersReadModel:
    """`UserLookup` over the serving version of the users projection."""

    def __init__(self, services: ApiServices) -> None:
        self.services = services
        self.redis = services.redis
        self.read_models = services.read_models

    async def catch_up(self) -> None:
        await caught_up_with_log(self.services, "users", self.services.config.young_id_s)

    async def caught_up(self) -> bool:
        wait_s = self.services.config.read_wait_default_s
        return await caught_up_with_log(self.services, "users", wait_s)

    async def user_id(self, handle: str) -> int | None:
        """The id behind a handle; None for an erased account (its handle stays reserved by
        its claim, so registering it again is refused as taken)."""
        users = (await self.read_models.namespaces("users"))["users"]
        return await user_id_for_handle(self.redis, users, handle)

    async def user_id_for_email(self, email: str) -> int | None:
        users = (await self.read_models.namespaces("users"))["users"]
        return await user_id_for_email(self.redis, users, email)

    async def email_of(self, user_id: int) -> str | None:
        users = (await self.read_models.namespaces("users"))["users"]
        return await email_of(self.redis, users, user_id)

    async def account(self, user_id: int) -> Account | None:
        users = (await self.read_models.namespaces("users"))["users"]
        profile = (await profiles(self.redis, users, [user_id])).get(user_id)
        if profile is None:
            return None
        return Account(profile.user_id, profile.handle, profile.display_name)

    async def password_hash(self, user_id: int) -> str | None:
        users = (await self.read_models.namespaces("users"))["users"]
        return await password_hash(self.redis, users, user_id)


class FollowGraphReadModel:
    """`FollowGraph` over the serving version of the follow-graph projection."""

    def __init__(self, services: ApiServices) -> None:
        self.redis = services.redis
        self.read_models = services.read_models

    async def is_following(self, follower_id: int, followee_id: int) -> bool:
        graph = (await self.read_models.namespaces("follow_graph"))["follow_graph"]
        return await is_following(self.redis, graph, follower_id, followee_id)


class RedisHandleClaims:
    """`HandleClaims` as one Redis key per handle, set only if absent (shared by every API
    process); a claim outlives its registration, so a handle is never claimed twice."""

    def __init__(self, services: ApiServices) -> None:
        self.redis = services.redis

    async def claim(self, handle_key: str, user_id: int) -> bool:
        return bool(await self.redis.set(HANDLE_CLAIM_PREFIX + handle_key, user_id, nx=True))

    async def release(self, handle_key: str) -> None:
        await self.redis.delete(HANDLE_CLAIM_PREFIX + handle_key)

    async def holder(self, handle_key: str) -> int | None:
        held_by = await self.redis.get(HANDLE_CLAIM_PREFIX + handle_key)
        return int(held_by) if held_by is not None else None


class RecentWritesInRedis:
    """`RecentWrites` through `api.recent_writes`, which owns the keys. The event is in the log
    already when this runs, so a Redis failure here loses only the wait, not the write."""

    def __init__(self, services: ApiServices) -> None:
        self.redis = services.redis
        self.ttl_ms = round(services.config.recent_writes_ttl_s * 1000)

    async def remember(self, user_id: int, position: Position) -> None:
        try:
            await remember_write(self.redis, user_id, position, ttl_ms=self.ttl_ms)
        except RedisError:
            log.warning("could not remember the write of user %d at %s", user_id, position)


class HomeTimelineHolds:
    """`FollowHolds` through the home-timelines projection, which owns the hold keys."""

    def __init__(self, services: ApiServices) -> None:
        self.redis = services.redis

    async def hold(self, follower_id: int, followee_id: int) -> None:
        await hold_for_follow(self.redis, follower_id, followee_id)


class PasswordsOffTheLoop:
    """`PasswordHasher`: argon2 is slow on purpose, so it runs in the thread pool."""

    def __init__(self, passwords: Passwords) -> None:
        self.passwords = passwords

    async def hash(self, password: str) -> str:
        return await run_in_threadpool(self.passwords.hash, password)

    async def verify(self, stored_hash: str, password: str) -> bool:
        return await run_in_threadpool(self.passwords.verify, stored_hash, password)


class MediaReadModel:
    """`MediaLookup` over the serving version of the media projection."""

    def __init__(self, services: ApiServices) -> None:
        self.services = services

    async def catch_up(self) -> None:
        await caught_up_with_log(self.services, "media", self.services.config.young_id_s)

    async def upload(self, media_id: int) -> Upload | None:
        media = (await self.services.read_models.namespaces("media"))["media"]
        described = await media_description(self.services.redis, media, media_id)
        if described is None:
            return None
        return Upload(media_id, int(described["owner_id"]), described["content_type"])


class MediaOffTheLoop:
    """`MediaInspector`: decoding images and probing videos is CPU work, done in a thread."""

    def __init__(self, max_pixels: int) -> None:
        self.max_pixels = max_pixels

    async def inspect(self, data: bytes) -> ProcessedMedia:
        return await run_in_threadpool(partial(process_media, data, max_pixels=self.max_pixels))


def use_cases_for(services: ApiServices) -> UseCases:
    """The use cases wired to the clients the API process started."""
    return UseCases(
        tweets=TweetsReadModel(services),
        users=UsersReadModel(services),
        graph=FollowGraphReadModel(services),
        claims=RedisHandleClaims(services),
        holds=HomeTimelineHolds(services),
        log=services.publisher,
        ids=services.ids,
        passwords=PasswordsOffTheLoop(services.passwords),
        tokens=services.tokens,
        clock=now_ms,
        recent_writes=RecentWritesInRedis(services),
        young_id_ms=round(services.config.young_id_s * 1000),
        media_store=services.config.media_store,
        media=MediaOffTheLoop(services.config.media_max_pixels),
        uploads=MediaReadModel(services),
    )
