"""The use cases of lists and bookmarks: the rules no single command can decide alone.

A list is private to its owner: someone else's list is refused as if it did not exist
(`ListNotFound`, 404), so list ids reveal nothing. Adding an account names a registered user;
adding a member already there, removing one who is not, bookmarking a tweet twice or removing
a bookmark that is not there produce nothing. A bookmark names a live tweet. Must never import
HTTP, Redis, Kafka or a projection: only the ports (`api.use_cases.ports` and those below).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from api.use_cases.errors import ListNotFound, TweetNotFound, UserNotFound
from api.use_cases.handlers import Published, UseCases
from api.use_cases.ports import LiveTweet
from domain import collections as rules
from domain.events import Event, ListCreated
from domain.ids import made_lately
from domain.text import handle_key
from schemas.log import Position


@dataclass(frozen=True, slots=True)
class OwnedList:
    """What a write needs to know of a list."""

    list_id: int
    owner_id: int
    member_count: int


class ListLookup(Protocol):
    async def list_of(self, list_id: int) -> OwnedList | None:
        """The list if it exists (not deleted)."""

    async def catch_up(self) -> None:
        """Waits (bounded) until the lists read model has applied the whole log."""

    async def is_member(self, list_id: int, member_id: int) -> bool: ...


class BookmarkLookup(Protocol):
    async def is_bookmarked(self, user_id: int, tweet_id: int) -> bool: ...


@dataclass(frozen=True, slots=True)
class CollectionUseCases:
    core: UseCases  # the shared ports: tweets, users, claims, log, ids, clock, recent writes
    lists: ListLookup
    bookmarks: BookmarkLookup

    async def create_list(
        self, owner_id: int, name: str, *, correlation_id: str | None = None
    ) -> Published[ListCreated]:
        """Make a list; its id comes from the same generator as tweets."""
        event = rules.create_list(
            owner_id, name, list_id=self.core.ids.next_id(), now_ms=self.core.clock()
        )
        return Published(event, await self._publish(event, owner_id, correlation_id))

    async def rename_list(
        self, owner_id: int, list_id: int, name: str, *, correlation_id: str | None = None
    ) -> Position:
        await self._own_list(owner_id, list_id)
        event = rules.rename_list(list_id, owner_id, name, now_ms=self.core.clock())
        return await self._publish(event, owner_id, correlation_id)

    async def delete_list(
        self, owner_id: int, list_id: int, *, correlation_id: str | None = None
    ) -> Position:
        await self._own_list(owner_id, list_id)
        event = rules.delete_list(list_id, owner_id, now_ms=self.core.clock())
        return await self._publish(event, owner_id, correlation_id)

    async def add_member(
        self, owner_id: int, list_id: int, handle: str, *, correlation_id: str | None = None
    ) -> Position | None:
        """Add a registered user to one of your lists; None if they are on it already."""
        owned = await self._own_list(owner_id, list_id)
        member_id = await self._user_id(handle)
        if await self.lists.is_member(list_id, member_id):
            return None
        event = rules.add_member(
            list_id, owner_id, member_id, member_count=owned.member_count, now_ms=self.core.clock()
        )
        return await self._publish(event, owner_id, correlation_id)

    async def remove_member(
        self, owner_id: int, list_id: int, handle: str, *, correlation_id: str | None = None
    ) -> Position | None:
        """Take a user off one of your lists; None if they are not on it."""
        await self._own_list(owner_id, list_id)
        member_id = await self._user_id(handle)
        if not await self.lists.is_member(list_id, member_id):
            return None
        event = rules.remove_member(list_id, owner_id, member_id, now_ms=self.core.clock())
        return await self._publish(event, owner_id, correlation_id)

    async def bookmark(
        self, user_id: int, tweet_id: int, *, correlation_id: str | None = None
    ) -> Position | None:
        """Bookmark a live tweet; None if it is bookmarked already."""
        tweet = await self._live_tweet(tweet_id)
        if await self.bookmarks.is_bookmarked(user_id, tweet_id):
            return None
        event = rules.bookmark(
            user_id,
            tweet_id,
            tweet.author_id,
            bookmark_id=self.core.ids.next_id(),
            now_ms=self.core.clock(),
        )
        return await self._publish(event, user_id, correlation_id)

    async def remove_bookmark(
        self, user_id: int, tweet_id: int, *, correlation_id: str | None = None
    ) -> Position | None:
        """Remove a bookmark of a live tweet; None if there is none."""
        await self._live_tweet(tweet_id)
        if not await self.bookmarks.is_bookmarked(user_id, tweet_id):
            return None
        event = rules.remove_bookmark(user_id, tweet_id, now_ms=self.core.clock())
        return await self._publish(event, user_id, correlation_id)

    async def _own_list(self, owner_id: int, list_id: int) -> OwnedList:
        """The caller's list; someone else's is refused as unknown. The caller's own writes
        were waited for before (the route's freshness dependency); a list made moments ago
        that is still not seen (that wait ran out) is waited for again, bounded (young id)."""
        found = await self.lists.list_of(list_id)
        if found is None and self._young(list_id):
            await self.lists.catch_up()
            found = await self.lists.list_of(list_id)
        if found is None or found.owner_id != owner_id:
            raise ListNotFound(list_id)
        return found

    async def _publish(self, event: Event, user_id: int, correlation_id: str | None) -> Position:
        position = await self.core.log.publish(event, correlation_id=correlation_id)
        await self.core.recent_writes.remember(user_id, position)
        return position

    def _young(self, entity_id: int) -> bool:
        return made_lately(entity_id, now_ms=self.core.clock(), within_ms=self.core.young_id_ms)

    async def _live_tweet(self, tweet_id: int) -> LiveTweet:
        """A live tweet; one posted moments ago is waited for (bounded)."""
        tweet = await self.core.tweets.live_tweet(tweet_id)
        if tweet is None and self._young(tweet_id):
            await self.core.tweets.catch_up()
            tweet = await self.core.tweets.live_tweet(tweet_id)
        if tweet is None:
            raise TweetNotFound(tweet_id)
        return tweet

    async def _user_id(self, handle: str) -> int:
        """A registered user; a registration on its way (its handle claimed by a young id)
        is waited for (bounded)."""
        user_id = await self.core.users.user_id(handle)
        if user_id is None:
            claimed_by = await self.core.claims.holder(handle_key(handle))
            if claimed_by is not None and self._young(claimed_by):
                await self.core.users.catch_up()
                user_id = await self.core.users.user_id(handle)
        if user_id is None:
            raise UserNotFound(handle)
        return user_id
