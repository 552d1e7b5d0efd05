"""The list and bookmark ports backed by the serving versions of their projections.

Reads only; must never write a projection's keys.
"""

from __future__ import annotations

from starlette.requests import Request

from api.lag import caught_up_with_log
from api.services import ApiServices
from api.use_cases.collections import CollectionUseCases, OwnedList
from api.use_cases.handlers import UseCases
from projections.bookmarks import is_bookmarked
from projections.lists import is_member, stored_list


class ListsReadModel:
    """`ListLookup` over the serving version of the lists projection."""

    def __init__(self, services: ApiServices) -> None:
        self.services = services

    async def catch_up(self) -> None:
        await caught_up_with_log(self.services, "lists", self.services.config.young_id_s)

    async def list_of(self, list_id: int) -> OwnedList | None:
        lists = (await self.services.read_models.namespaces("lists"))["lists"]
        found = await stored_list(self.services.redis, lists, list_id)
        if found is None:
            return None
        return OwnedList(found.list_id, found.owner_id, found.member_count)

    async def is_member(self, list_id: int, member_id: int) -> bool:
        lists = (await self.services.read_models.namespaces("lists"))["lists"]
        return await is_member(self.services.redis, lists, list_id, member_id)


class BookmarksReadModel:
    """`BookmarkLookup` over the serving version of the bookmarks projection."""

    def __init__(self, services: ApiServices) -> None:
        self.services = services

    async def is_bookmarked(self, user_id: int, tweet_id: int) -> bool:
        bookmarks = (await self.services.read_models.namespaces("bookmarks"))["bookmarks"]
        return await is_bookmarked(self.services.redis, bookmarks, user_id, tweet_id)


def collection_use_cases_for(services: ApiServices, core: UseCases) -> CollectionUseCases:
    """The list and bookmark use cases, on the same shared ports as the other use cases."""
    return CollectionUseCases(
        core=core, lists=ListsReadModel(services), bookmarks=BookmarksReadModel(services)
    )


def collection_use_cases(request: Request) -> CollectionUseCases:
    """A dependency: the app's list and bookmark use cases, made on first use."""
    state = request.app.state
    found: CollectionUseCases | None = getattr(state, "collection_use_cases", None)
    if found is None:
        found = collection_use_cases_for(state.services, state.use_cases)
        state.collection_use_cases = found
    return found


async def collection_use_cases_dependency(request: Request) -> CollectionUseCases:
    return collection_use_cases(request)  # async: a plain `def` dependency costs a thread hop
