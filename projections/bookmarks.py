"""Bookmarks: each user's privately saved tweets, newest bookmark first.

Keys (under `chirp:bookmarks:v{n}:`, hash-tagged by the user):
- `entries:{user}` -> sorted set of bookmark entries (score 0): the bookmark's id, the tweet's
  id and the tweet's author id, fixed width, so string order is bookmark order and a page
  names every tweet and author hydration fetches.
- `index:{user}` -> hash tweet id -> its entry (a tweet is bookmarked once; removal finds it).

Deleted tweets are not removed here: hydration drops tombstoned tweets from every page. Only
this module reads or writes these keys; it never reads another projection's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from domain.events import BookmarkRemoved, Event, TweetBookmarked
from domain.ids import ID_DIGITS, sortable_id
from projections.base import Namespace
from projections.entries import before_bound
from projections.lua import LuaScript

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

    from projections.redis_client import RedisClient

# KEYS: index, entries (the user's slot)  ARGV: tweet id, entry member
_ADD = LuaScript("projections.scripts", "bookmark_add.lua")
# KEYS: index, entries  ARGV: tweet id
_REMOVE = LuaScript("projections.scripts", "bookmark_remove.lua")


@dataclass(frozen=True, slots=True, order=True)
class Bookmark:
    bookmark_id: int
    tweet_id: int
    author_id: int

    @property
    def member(self) -> str:
        return "".join(map(sortable_id, (self.bookmark_id, self.tweet_id, self.author_id)))

    @classmethod
    def parse(cls, member: bytes | str) -> Bookmark:
        text = member.decode() if isinstance(member, bytes) else member
        bookmark, tweet, author = (
            int(text[i : i + ID_DIGITS]) for i in range(0, 3 * ID_DIGITS, ID_DIGITS)
        )
        return cls(bookmark, tweet, author)


def entries_key(keys: Namespace, user_id: int) -> str:
    return keys.of("entries", user_id)


def index_key(keys: Namespace, user_id: int) -> str:
    return keys.of("index", user_id)


class BookmarksProjection:
    name: ClassVar[str] = "bookmarks"
    topic_families: ClassVar[tuple[str, ...]] = ("collections",)

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        match event:
            case TweetBookmarked():
                entry = Bookmark(event.bookmark_id, event.tweet_id, event.tweet_author_id)
                _ADD.queue(
                    tx,
                    [index_key(keys, event.user_id), entries_key(keys, event.user_id)],
                    [event.tweet_id, entry.member],
                )
            case BookmarkRemoved():
                _REMOVE.queue(
                    tx,
                    [index_key(keys, event.user_id), entries_key(keys, event.user_id)],
                    [event.tweet_id],
                )


async def bookmarks_page(
    redis: RedisClient, keys: Namespace, user_id: int, *, count: int, before: int | None
) -> list[Bookmark]:
    """Up to `count` bookmarks made before the bookmark `before`, newest first."""
    members = await redis.zrevrangebylex(
        entries_key(keys, user_id), before_bound(before), "-", 0, count
    )
    return [Bookmark.parse(member) for member in members]


async def is_bookmarked(redis: RedisClient, keys: Namespace, user_id: int, tweet_id: int) -> bool:
    return bool(await redis.hexists(index_key(keys, user_id), str(tweet_id)))


def queue_is_bookmarked(pipe: Any, keys: Namespace, user_id: int, tweet_id: int) -> None:
    """Queues whether the user has bookmarked the tweet (a bool)."""
    pipe.hexists(index_key(keys, user_id), str(tweet_id))
