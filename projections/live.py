"""The live feed: what the stream endpoints tell connected clients, in the order it happened.

One Redis stream, `chirp:live:v{n}:{live}:feed`, capped at about `FEED_LENGTH` entries: one
entry per tweet, retweet, deleted tweet, follow, unfollow and new notification (as the
notifications projection groups them: mention, reply, quote, like, retweet, follow), as small
fields (never hydrated objects). Every API process follows it with one blocking read and hands
each entry to the clients it concerns, so any process serves any user. The stream's entry ids
are the events' ids on the wire (SSE `id:`), which is how a client resumes with
`Last-Event-ID`.

Applying an event twice (a batch re-applied after a crash) appends it twice; each entry carries
a key naming the event (`dedupe_key`) and readers skip keys they have already seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from domain.events import (
    Event,
    RetweetUndone,
    TweetDeleted,
    TweetPosted,
    TweetRetweeted,
    UserFollowed,
    UserUnfollowed,
)
from projections.base import Namespace, as_text
from projections.notifications import notifications_of

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline
    from redis.typing import EncodableT, FieldT

FEED_LENGTH = 100_000  # about this many entries are kept for clients resuming after a gap
KINDS = ("tweet", "retweet", "unretweet", "delete", "follow", "unfollow", "notification")


@dataclass(frozen=True, slots=True)
class LiveEntry:
    """One thing that happened, as connected clients need it.

    `actor_id` did it (author, retweeter, follower); `tweet_id` is the tweet concerned (the
    original for retweets); `entry_id` the home-timeline entry (the retweet's own id);
    `subject_id` the followee of a follow, the original's author of a retweet, or the
    recipient of a notification (whose kind is `note`, about `tweet_id`, 0 for follows).
    """

    kind: str
    actor_id: int
    tweet_id: int = 0
    entry_id: int = 0
    subject_id: int = 0
    at_ms: int = 0
    note: str = ""

    @property
    def dedupe_key(self) -> str:
        target = self.entry_id or self.tweet_id
        return f"{self.kind}{self.note}:{self.actor_id}:{target}:{self.subject_id}:{self.at_ms}"

    def fields(self) -> dict[FieldT, EncodableT]:
        return {
            "kind": self.kind,
            "actor": str(self.actor_id),
            "tweet": str(self.tweet_id),
            "entry": str(self.entry_id),
            "subject": str(self.subject_id),
            "at": str(self.at_ms),
            "note": self.note,
        }

    @classmethod
    def from_fields(cls, raw: dict[Any, Any]) -> LiveEntry:
        got = {as_text(name): as_text(value) for name, value in raw.items()}
        return cls(
            kind=got["kind"],
            actor_id=int(got["actor"]),
            tweet_id=int(got["tweet"]),
            entry_id=int(got["entry"]),
            subject_id=int(got["subject"]),
            at_ms=int(got["at"]),
            note=got.get("note", ""),
        )


def live_entries(event: Event) -> list[LiveEntry]:
    """What connected clients hear of an event: its timeline change, its new notifications."""
    entry = live_entry(event)
    notes = [
        LiveEntry("notification", n.actor_id, n.target_id, 0, n.recipient_id, n.at_ms, n.kind)
        for n in notifications_of(event).added
    ]
    return [entry, *notes] if entry is not None else notes


def live_entry(event: Event) -> LiveEntry | None:
    """What followers' connected clients hear of an event, if anything."""
    match event:
        case TweetPosted():
            return LiveEntry(
                "tweet", event.author_id, event.tweet_id, event.tweet_id, 0, event.created_at_ms
            )
        case TweetRetweeted():
            return LiveEntry(
                "retweet",
                event.user_id,
                event.tweet_id,
                event.retweet_id,
                event.tweet_author_id or 0,
                event.retweeted_at_ms,
            )
        case RetweetUndone():
            return LiveEntry("unretweet", event.user_id, event.tweet_id, 0, 0, event.undone_at_ms)
        case TweetDeleted():
            return LiveEntry(
                "delete", event.author_id, event.tweet_id, event.tweet_id, 0, event.deleted_at_ms
            )
        case UserFollowed():
            return LiveEntry(
                "follow", event.follower_id, 0, 0, event.followee_id, event.followed_at_ms
            )
        case UserUnfollowed():
            return LiveEntry(
                "unfollow", event.follower_id, 0, 0, event.followee_id, event.unfollowed_at_ms
            )
    return None


def feed_key(keys: Namespace) -> str:
    return keys.in_slot("live", "feed")


class LiveFeedProjection:
    name: ClassVar[str] = "live"
    topic_families: ClassVar[tuple[str, ...]] = ("tweets", "follows", "likes")

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        for entry in live_entries(event):
            tx.xadd(feed_key(keys), entry.fields(), maxlen=FEED_LENGTH, approximate=True)


FeedItem = tuple[str, LiveEntry]


def _items(rows: list[Any]) -> list[FeedItem]:
    return [(as_text(entry_id), LiveEntry.from_fields(fields)) for entry_id, fields in rows]


async def feed_tail(redis: Any, keys: Namespace) -> str:
    """The id of the newest entry (`0-0` when there is none): where a new reader starts."""
    rows = await redis.xrevrange(feed_key(keys), count=1)
    return as_text(rows[0][0]) if rows else "0-0"


async def feed_head(redis: Any, keys: Namespace) -> str | None:
    """The id of the oldest entry still kept, or None when the feed is empty."""
    rows = await redis.xrange(feed_key(keys), count=1)
    return as_text(rows[0][0]) if rows else None


async def feed_after(redis: Any, keys: Namespace, after: str, count: int) -> list[FeedItem]:
    """Up to `count` entries newer than `after`, oldest first."""
    return _items(await redis.xrange(feed_key(keys), min=f"({after}", count=count))


async def wait_for_feed(
    redis: Any, keys: Namespace, after: str, *, count: int, block_ms: int
) -> list[FeedItem]:
    """Entries newer than `after`, waiting up to `block_ms` for the first one."""
    answer = await redis.xread({feed_key(keys): after}, count=count, block=block_ms)
    if not answer:
        return []
    # redis-py answers a list of [key, rows] (RESP2) or a dict {key: [rows]} (RESP3).
    streams = answer.values() if isinstance(answer, dict) else (rows for _, rows in answer)
    return [item for rows in streams for item in _items(rows)]


def entry_order(entry_id: str) -> tuple[int, int]:
    """A stream entry id (`ms-seq`) as something that sorts like the stream."""
    millis, _, sequence = entry_id.partition("-")
    return int(millis), int(sequence or 0)
