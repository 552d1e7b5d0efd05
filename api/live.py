"""Live home streams: one reader of the live feed per API process, handing entries to clients.

The hub follows the feed (`projections.live`) with one blocking read, whoever is connected,
and knows, for each connected user, whom they follow (read once at connect, then kept up to
date from the feed's own follow entries). An entry goes to the author's and the followers'
connections; celebrities' tweets included, since nothing here depends on fan-out. Entries are
hydrated once per process, whatever the number of recipients.

What a connection hears is its `Audience`: its home timeline and its notifications (the
`/v1` stream, Mastodon's `user`), its notifications only, or every public tweet and deletion
(Mastodon's `public`: the feed carries every tweet, so nothing is read for it but the same
blocking read). Tweets are hydrated only when some connection hears them.

A connection that does not keep up (its queue is full) is closed; the client reconnects with
`Last-Event-ID` and resumes from the feed, which keeps about `FEED_LENGTH` entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import orjson

from api.views import iso_time
from projections.base import Namespace
from projections.live import (
    FeedItem,
    LiveEntry,
    entry_order,
    feed_after,
    feed_head,
    feed_tail,
    wait_for_feed,
)

log = logging.getLogger(__name__)

QUEUE_LENGTH = 1_000  # entries waiting for one slow client before it is disconnected
BATCH = 500  # feed entries read per round trip
BLOCK_MS = 2_000  # one blocking read waits this long, then checks the serving version
RESUME_LIMIT = 10_000  # a client further behind than this is told to reload instead
SEEN_KEYS = 50_000  # dedupe window for entries appended twice (re-applied batches)


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One SSE event: its id (the feed entry's), name and JSON data."""

    id: str
    event: str
    data: str


READY = "ready"  # sent once connected: from here on nothing is missed
RESET = "reset"


def dumps(value: object) -> str:
    return orjson.dumps(
        value
    ).decode()  # tells the client to reload: the feed no longer reaches back far enough


Hydrate = Callable[[list[LiveEntry]], Awaitable[dict[int, dict[str, object]]]]
"""Views of the entries' tweets by entry id (only those still live)."""
LoadFollowees = Callable[[int], Awaitable[set[int]]]
DescribeAccounts = Callable[[list[int]], Awaitable[dict[int, dict[str, object]]]]
"""User summaries (id, handle, display name) by id, for those that exist."""


@dataclass(frozen=True, slots=True)
class Audience:
    """What one connection hears: its user's home timeline (own and followees' tweets,
    retweets, deletions), its user's notifications, every public tweet and deletion."""

    home: bool = True
    notifications: bool = True
    public: bool = False


HOME = Audience()
NOTIFICATIONS = Audience(home=False)
PUBLIC = Audience(home=False, notifications=False, public=True)
PUBLIC_KINDS = ("tweet", "delete")  # a public stream shows tweets, not retweets


@dataclass(eq=False)
class Subscription:
    user_id: int  # 0 for an anonymous connection (public audience only)
    followees: set[int]
    since: str  # the last feed entry handed out before it subscribed
    audience: Audience = HOME
    queue: asyncio.Queue[StreamEvent | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_LENGTH)
    )
    closed: bool = False

    def wants(self, entry: LiveEntry) -> bool:
        if entry.kind in ("follow", "unfollow"):
            return False
        if entry.kind == "notification":
            return self.audience.notifications and entry.subject_id == self.user_id
        if self.audience.public and entry.kind in PUBLIC_KINDS:
            return True
        return self.audience.home and (
            entry.actor_id == self.user_id or entry.actor_id in self.followees
        )

    def offer(self, event: StreamEvent) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:  # too slow: close; it resumes from the feed
            self.closed = True
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class LiveHub:
    def __init__(
        self,
        redis: object,
        feed_space: Callable[[], Awaitable[Namespace]],
        hydrate: Hydrate,
        load_followees: LoadFollowees,
        describe_accounts: DescribeAccounts,
    ) -> None:
        self.redis = redis
        self.feed_space = feed_space
        self.hydrate = hydrate
        self.load_followees = load_followees
        self.describe_accounts = describe_accounts
        self._by_user: dict[int, set[Subscription]] = defaultdict(set)
        self._by_followee: dict[int, set[Subscription]] = defaultdict(set)
        self._public: set[Subscription] = set()
        self._all: set[Subscription] = set()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self.on_connections: Callable[[int], None] = lambda count: None  # e.g. a gauge's set
        self.position = "0-0"  # the last feed entry handed to every connection it concerned

    @property
    def connections(self) -> int:
        return len(self._all)

    def start(self) -> None:
        self._task = asyncio.create_task(self._follow(), name="live-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def subscribe(self, user_id: int, audience: Audience = HOME) -> Subscription:
        followees = await self.load_followees(user_id) if audience.home else set()
        subscription = Subscription(user_id, followees, self.position, audience)
        self._all.add(subscription)
        if user_id:
            self._by_user[user_id].add(subscription)
        for followee in subscription.followees:
            self._by_followee[followee].add(subscription)
        if audience.public:
            self._public.add(subscription)
        self.on_connections(self.connections)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.closed = True
        self._all.discard(subscription)
        self._public.discard(subscription)
        self._discard(self._by_user, subscription.user_id, subscription)
        for followee in subscription.followees:
            self._discard(self._by_followee, followee, subscription)
        self.on_connections(self.connections)

    @staticmethod
    def _discard(index: dict[int, set[Subscription]], key: int, sub: Subscription) -> None:
        subs = index.get(key)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del index[key]

    async def events(
        self, subscription: Subscription, last_event_id: str | None
    ) -> AsyncIterator[StreamEvent]:
        """The connection's events: what it missed since `last_event_id`, then `ready` (its id
        is where to resume from should nothing else arrive), then live ones."""
        sent_up_to = entry_order(subscription.since)
        if last_event_id is not None:
            backlog = await self._backlog(subscription, last_event_id)
            for missed in backlog:
                yield missed
                sent_up_to = max(sent_up_to, entry_order(missed.id))
        yield StreamEvent("-".join(map(str, sent_up_to)), READY, "{}")
        while True:
            event = await subscription.queue.get()
            if event is None:
                return
            if event.event != RESET and entry_order(event.id) <= sent_up_to:
                continue  # already sent from the backlog
            yield event

    async def _backlog(self, subscription: Subscription, last_event_id: str) -> list[StreamEvent]:
        space = await self.feed_space()
        head = await feed_head(self.redis, space)
        items = await feed_after(self.redis, space, last_event_id, RESUME_LIMIT + 1)
        trimmed = head is not None and entry_order(head) > entry_order(last_event_id)
        if trimmed or len(items) > RESUME_LIMIT:
            tail = items[-1][0] if items else last_event_id
            return [StreamEvent(tail, RESET, "{}")]
        keys: set[str] = set()
        wanted = []
        for item in items:
            if item[1].dedupe_key not in keys and subscription.wants(item[1]):
                keys.add(item[1].dedupe_key)
                wanted.append(item)
        return [event for event, _ in await self._render(wanted)]

    async def _follow(self) -> None:
        space = await self.feed_space()
        after = self.position = await feed_tail(self.redis, space)
        while True:
            try:
                current = await self.feed_space()
                if current != space:  # a rebuilt feed serves: its ids are new
                    space, after = current, await feed_tail(self.redis, current)
                    self._reset_everyone(after)
                    self.position = after
                    continue
                items = await wait_for_feed(
                    self.redis, space, after, count=BATCH, block_ms=BLOCK_MS
                )
                if items:
                    after = items[-1][0]
                    await self._dispatch(items)
                    self.position = after
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis away or restarting: try again shortly
                log.warning("live feed read failed; retrying", exc_info=True)
                await asyncio.sleep(0.5)

    def _reset_everyone(self, at: str) -> None:
        for sub in list(self._all):
            sub.offer(StreamEvent(at, RESET, "{}"))

    def _fresh(self, entry: LiveEntry) -> bool:
        key = entry.dedupe_key
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > SEEN_KEYS:
            self._seen.popitem(last=False)
        return True

    async def _dispatch(self, items: list[FeedItem]) -> None:
        fresh = [item for item in items if self._fresh(item[1])]
        for _, entry in fresh:
            if entry.kind in ("follow", "unfollow"):
                self._refollow(entry)
        wanted = [item for item in fresh if self._audience(item[1])]
        rendered = await self._render(wanted)
        # Who hears it is decided after rendering, with no wait until `position` moves on:
        # a connection that subscribed meanwhile hears it here or resumes after it.
        for event, entry in rendered:
            for sub in self._audience(entry):
                sub.offer(event)

    def _audience(self, entry: LiveEntry) -> set[Subscription]:
        if entry.kind in ("follow", "unfollow"):
            return set()
        if entry.kind == "notification":
            candidates = self._by_user.get(entry.subject_id, set())
        else:
            candidates = self._by_user.get(entry.actor_id, set()) | self._by_followee.get(
                entry.actor_id, set()
            )
            if entry.kind in PUBLIC_KINDS:
                candidates = candidates | self._public
        return {sub for sub in candidates if sub.wants(entry)}

    def _refollow(self, entry: LiveEntry) -> None:
        for sub in self._by_user.get(entry.actor_id, ()):
            if not sub.audience.home:
                continue
            if entry.kind == "follow" and entry.subject_id not in sub.followees:
                sub.followees.add(entry.subject_id)
                self._by_followee[entry.subject_id].add(sub)
            elif entry.kind == "unfollow" and entry.subject_id in sub.followees:
                sub.followees.discard(entry.subject_id)
                self._discard(self._by_followee, entry.subject_id, sub)

    async def _render(self, items: list[FeedItem]) -> list[tuple[StreamEvent, LiveEntry]]:
        shown = [item for item in items if item[1].kind in ("tweet", "retweet")]
        views = await self.hydrate([entry for _, entry in shown]) if shown else {}
        actors = sorted({e.actor_id for _, e in items if e.kind == "notification"})
        accounts = await self.describe_accounts(actors) if actors else {}
        events = []
        for feed_id, entry in items:
            if entry.kind == "notification":
                account = accounts.get(entry.actor_id)
                if account is not None:  # an account erased meanwhile notifies nobody
                    note = {
                        "type": entry.note,
                        "target": str(entry.tweet_id) if entry.tweet_id else None,
                        "account": account,
                        "at": iso_time(entry.at_ms),
                    }
                    events.append((StreamEvent(feed_id, "notification", dumps(note)), entry))
                continue
            if entry.kind in ("tweet", "retweet"):
                view = views.get(entry.entry_id)
                if view is not None:
                    events.append(
                        (StreamEvent(feed_id, "entry", orjson.dumps(view).decode()), entry)
                    )
            else:  # delete, unretweet: the client takes the entry away
                removed = {"tweet_id": str(entry.tweet_id), "user_id": str(entry.actor_id)}
                data = orjson.dumps(removed).decode()
                events.append((StreamEvent(feed_id, entry.kind, data), entry))
        return events
