"""The erasure's `AccountFootprints` port, backed by the serving versions of the read models
that list what an account did: user timelines (its tweets, its retweets), tweets (how each
tweet was posted, whom a liked or retweeted tweet belongs to), likes (what it likes), the follow
graph (both ways), bookmarks, lists (the lists it owns) and media (its uploads).

Reads only; must never write a projection's keys.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request

from api.lag import caught_up_with_log
from api.services import ApiServices
from api.use_cases.adapters import live_tweet_of
from api.use_cases.erasure import ErasureUseCases
from api.use_cases.handlers import UseCases
from domain.erasure import Footprint, OwnTweet, TweetOfOther
from projections.bookmarks import bookmarks_page
from projections.follow_graph import whole_graph_of
from projections.likes import liked_by
from projections.lists import owned_page
from projections.media import uploads_of
from projections.tweets import live_tweet
from projections.user_timelines import own_tweet_ids, retweeted_originals

FOOTPRINT_PROJECTIONS = (
    "user_timelines",
    "tweets",
    "likes",
    "follow_graph",
    "bookmarks",
    "lists",
    "media",
)
PAGE = 1000


class FootprintReadModels:
    """`AccountFootprints` over the serving read models, each caught up with the log first."""

    def __init__(self, services: ApiServices) -> None:
        self.services = services

    async def footprint(self, user_id: int) -> Footprint | None:
        services, redis = self.services, self.services.redis
        wait_s = services.config.read_wait_default_s
        caught_up = await asyncio.gather(
            *(caught_up_with_log(services, name, wait_s) for name in FOOTPRINT_PROJECTIONS)
        )
        if not all(caught_up):
            return None
        spaces = await services.read_models.namespaces(*FOOTPRINT_PROJECTIONS)
        tweets = spaces["tweets"]
        own_ids = await own_tweet_ids(redis, spaces["user_timelines"], user_id)
        retweeted = await retweeted_originals(redis, spaces["user_timelines"], user_id)
        liked = await liked_by(redis, spaces["likes"], user_id)
        following, followers = await whole_graph_of(redis, spaces["follow_graph"], user_id)
        own = []
        for tweet_id in own_ids:
            found = await live_tweet(redis, tweets, tweet_id)
            if found is not None:
                posted = live_tweet_of(found)
                own.append(
                    OwnTweet(tweet_id, posted.created_at_ms, posted.reply_to, posted.hashtags)
                )
        return Footprint(
            user_id=user_id,
            tweets=tuple(own),
            retweeted=tuple([await self._of_other(tweet_id) for tweet_id in retweeted]),
            liked=tuple([await self._of_other(tweet_id) for tweet_id in liked]),
            following=tuple(following),
            followers=tuple(followers),
            bookmarked=tuple(await self._bookmarked(user_id)),
            owned_lists=tuple(await self._owned_lists(user_id)),
            media_ids=tuple(await uploads_of(redis, spaces["media"], user_id)),
        )

    async def _of_other(self, tweet_id: int) -> TweetOfOther:
        tweets = (await self.services.read_models.namespaces("tweets"))["tweets"]
        found = await live_tweet(self.services.redis, tweets, tweet_id)
        return TweetOfOther(tweet_id, int(found["author_id"]) if found is not None else None)

    async def _bookmarked(self, user_id: int) -> list[int]:
        keys = (await self.services.read_models.namespaces("bookmarks"))["bookmarks"]
        tweet_ids: list[int] = []
        before: int | None = None
        while True:
            page = await bookmarks_page(
                self.services.redis, keys, user_id, count=PAGE, before=before
            )
            tweet_ids += [bookmark.tweet_id for bookmark in page]
            if len(page) < PAGE:
                return tweet_ids
            before = page[-1].bookmark_id

    async def _owned_lists(self, user_id: int) -> list[int]:
        keys = (await self.services.read_models.namespaces("lists"))["lists"]
        list_ids: list[int] = []
        before: int | None = None
        while True:
            page = await owned_page(self.services.redis, keys, user_id, count=PAGE, before=before)
            list_ids += page
            if len(page) < PAGE:
                return list_ids
            before = page[-1]


async def erasure_use_cases(request: Request) -> ErasureUseCases:
    """A dependency: the app's erasure use case, made on first use."""
    state = request.app.state
    found: ErasureUseCases | None = getattr(state, "erasure_use_cases", None)
    if found is None:
        core: UseCases = state.use_cases
        found = ErasureUseCases(
            core=core,
            footprints=FootprintReadModels(state.services),
            grants=getattr(state, "oauth", None),  # the Mastodon API's token store
            keys=state.services.config.personal_keys,
        )
        state.erasure_use_cases = found
    return found
