"""Mastodon's streaming API over the process's live hub (`api.live`), the same source as
`/v1/streams/home`: Server-Sent Events under `/api/v1/streaming/...` and the WebSocket at
`/api/v1/streaming` (several streams on one connection, `subscribe` / `unsubscribe`).

Events are Mastodon's: `update` (a Status), `notification` (a Notification), `delete` (a
status id). Each hub event is rendered once per process and base URL (`StreamRenderer`),
whatever the number of connections hearing it; statuses carry no viewer's state (favourited,
reblogged), as on Mastodon's own streams. This module reads nothing the hub does not hand it
but what rendering needs (mentioned accounts, a notification's status) and writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, WebSocket
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocketDisconnect

from api.deps import BearerToken, caller_state, reads
from api.hydration import HYDRATION_PROJECTIONS, TweetSources, hydrate
from api.live import HOME, NOTIFICATIONS, PUBLIC, Audience, LiveHub, StreamEvent, Subscription
from api.mastodon.context import bearer_token, grant_for
from api.mastodon.entities import account_entity
from api.mastodon.errors import MastodonError, MastodonRoute, error_response
from api.mastodon.notifications import MASTODON_TYPE, group_key, notification_id
from api.mastodon.scopes import allows
from api.mastodon.statuses_entity import status_entity, status_facts
from api.mastodon.tokens import Grant, OAuthStore
from api.services import ApiServices
from api.views import JsonObject
from projections.notifications import Notification

log = logging.getLogger(__name__)

# Out of the OpenAPI document, as the rest of this surface (Mastodon's documentation is its
# contract; the `/v1` contract fuzzing would also open streams that never end).
router = APIRouter(prefix="/api/v1/streaming", route_class=MastodonRoute, include_in_schema=False)

RENDERED_KEPT = 2_000  # hub events whose Mastodon form is kept for other connections
OUTBOX_LENGTH = 1_000  # WebSocket messages waiting for a slow client before it is closed
HEARTBEAT = "thump"  # Mastodon's SSE heartbeat comment
SEP = "\n"  # Mastodon's line ending: clients split SSE lines on bare newlines

UNKNOWN_STREAM = "Unknown stream type"
NO_TAG = "No tag for stream provided"
MISSING_TOKEN = "Missing access token"  # noqa: S105 - a message, not a secret
NO_SCOPE = "Access token does not have the required scopes"


@dataclass(frozen=True, slots=True)
class Stream:
    """One Mastodon stream: its name as messages carry it (`["hashtag", "tag"]`), what it
    hears from the hub, the scope a token needs for it, and its filters."""

    name: tuple[str, ...]
    audience: Audience
    scope: str
    needs_user: bool = False
    tag: str | None = None  # only statuses with this hashtag (lower case)
    only_media: bool = False
    remote: bool = False  # every Chirp account is local: a remote stream stays quiet

    def shows(self, rendered: Rendered) -> bool:
        if rendered.event != "update":
            return not self.remote
        if self.remote or (self.only_media and not rendered.has_media):
            return False
        return self.tag is None or self.tag in rendered.tags


_PUBLIC_NAMES = {
    "public",
    "public:local",
    "public:remote",
    "public:media",
    "public:local:media",
    "public:remote:media",
}


def stream_named(name: str, *, tag: str | None = None, only_media: bool = False) -> Stream:
    """The stream Mastodon calls `name`; 400 for one it does not know or a tag missing."""
    if name == "user":
        return Stream(("user",), HOME, "read:statuses", needs_user=True)
    if name == "user:notification":
        return Stream(("user:notification",), NOTIFICATIONS, "read:notifications", True)
    if name in _PUBLIC_NAMES:
        parts = name.split(":")
        media = only_media or "media" in parts
        return Stream((name,), PUBLIC, "read:statuses", only_media=media, remote="remote" in parts)
    if name in ("hashtag", "hashtag:local"):
        cleaned = (tag or "").strip().lstrip("#")
        if not cleaned:
            raise MastodonError(400, NO_TAG)
        return Stream((name, cleaned), PUBLIC, "read:statuses", tag=cleaned.casefold())
    raise MastodonError(400, UNKNOWN_STREAM)


def check_access(stream: Stream, grant: Grant | None) -> int:
    """The user a connection hears the stream for (0 for nobody); 401 as Mastodon's
    streaming server answers: no token for a user's stream, or a token without the scope."""
    if grant is None:
        if stream.needs_user:
            raise MastodonError(401, MISSING_TOKEN)
        return 0
    if not allows(grant.scopes, stream.scope):
        raise MastodonError(401, NO_SCOPE)
    if grant.caller is None:
        if stream.needs_user:
            raise MastodonError(401, "This stream requires an authenticated user")
        return 0
    return grant.caller.user_id


@dataclass(frozen=True, slots=True)
class Rendered:
    """A hub event in Mastodon's form: the event name and its payload text."""

    event: str
    payload: str
    tags: frozenset[str] = frozenset()
    has_media: bool = False


def http_base(connection: HTTPConnection) -> str:
    """The base URL entities link to (a WebSocket's `ws://` base names the `http://` site)."""
    base = str(connection.base_url)
    if base.startswith("ws"):
        base = "http" + base[2:]
    return base


class StreamRenderer:
    """Renders hub events as Mastodon events, once per event and base URL: concurrent
    connections hearing the same event await the same rendering."""

    def __init__(self, services: ApiServices) -> None:
        self.services = services
        self._kept: OrderedDict[tuple[str, str], asyncio.Future[Rendered | None]] = OrderedDict()

    async def render(self, event: StreamEvent, base_url: str) -> Rendered | None:
        if event.event not in ("entry", "delete", "notification"):
            return None  # ready, reset, unretweet: nothing Mastodon's clients know of
        key = (event.id, base_url)
        found = self._kept.get(key)
        if found is None:
            found = asyncio.ensure_future(self._rendered(event, base_url))
            self._kept[key] = found
            if len(self._kept) > RENDERED_KEPT:
                self._kept.popitem(last=False)
        return await asyncio.shield(found)

    async def _rendered(self, event: StreamEvent, base_url: str) -> Rendered | None:
        try:
            data = orjson.loads(event.data)
            if event.event == "delete":
                return Rendered("delete", str(data["tweet_id"]))
            if event.event == "entry":
                return await self._update(data, base_url)
            return await self._notification(event.id, data, base_url)
        except Exception:  # one event that cannot be rendered must not end the streams
            log.warning("live event %s not rendered for Mastodon", event.id, exc_info=True)
            return None

    async def _statuses(self, views: list[JsonObject], base_url: str) -> list[JsonObject]:
        facts = await status_facts(self.services, views, base_url=base_url, viewer_id=None)
        return [status_entity(view, facts) for view in views]

    async def _update(self, view: JsonObject, base_url: str) -> Rendered:
        (status,) = await self._statuses([view], base_url)
        shown = status["reblog"] or status
        return Rendered(
            "update",
            orjson.dumps(status).decode(),
            frozenset(tag["name"].casefold() for tag in shown["tags"]),
            bool(shown["media_attachments"]),
        )

    async def _notification(self, feed_id: str, note: JsonObject, base_url: str) -> Rendered:
        status: JsonObject | None = None
        if note.get("target"):
            spaces = await self.services.read_models.namespaces(*HYDRATION_PROJECTIONS)
            target = int(note["target"])
            views = await hydrate(
                self.services.redis, TweetSources.of(spaces), [target], self.services.profiles
            )
            if target in views:
                (status,) = await self._statuses([views[target]], base_url)
        entity = notification_entity(note, status, base_url)
        return Rendered("notification", orjson.dumps(entity).decode())


def notification_entity(note: JsonObject, status: JsonObject | None, base_url: str) -> JsonObject:
    """A Notification from a live notification (`{type, target, account, at}`), with the id,
    type and group key `/api/v1/notifications` lists it under."""
    at_ms = round(datetime.fromisoformat(note["at"]).timestamp() * 1000)
    target = int(note["target"] or 0)
    found = Notification(note["type"], 0, target, int(note["account"]["id"]), at_ms)
    return {
        "id": notification_id(found),
        "type": MASTODON_TYPE[found.kind],
        "group_key": group_key(found.kind, target, found),
        "created_at": note["at"],
        "account": account_entity(note["account"], base_url),
        "status": status,
    }


def renderer_of(connection: HTTPConnection) -> StreamRenderer:
    """The process's renderer, made on first use beside the hub."""
    state = connection.app.state
    renderer: StreamRenderer | None = getattr(state, "mastodon_stream_renderer", None)
    if renderer is None:
        renderer = state.mastodon_stream_renderer = StreamRenderer(state.services)
    return renderer


async def connection_grant(connection: HTTPConnection, token: str | None) -> Grant | None:
    """The grant of the connection's bearer token or `?access_token=` (or, on a WebSocket,
    the `Sec-WebSocket-Protocol` header, as browsers send it)."""
    token = bearer_token(connection) or token
    if not token:
        token = connection.headers.get("sec-websocket-protocol") or None
    if not token:
        return None
    services: ApiServices = connection.app.state.services
    oauth: OAuthStore = connection.app.state.oauth
    return await grant_for(token, services, oauth)


def hub_of(connection: HTTPConnection) -> LiveHub:
    hub: LiveHub = connection.app.state.live_hub
    return hub


async def subscribe(
    connection: HTTPConnection, stream: Stream, user_id: int, grant: Grant | None
) -> Subscription:
    """The connection's hub subscription. A home stream starts from whom the user follows
    once their own latest follows are applied (bounded wait, as the `/v1` reads do)."""
    if stream.audience.home and grant is not None and grant.caller is not None:
        state = connection.app.state
        await reads("follow_graph")(
            state.services,
            await caller_state(BearerToken(grant.caller), state.services),
            state.lag_watch,
        )
    return await hub_of(connection).subscribe(user_id, stream.audience)


async def mastodon_events(
    connection: HTTPConnection, stream: Stream, subscription: Subscription
) -> AsyncIterator[Rendered]:
    """The stream's events for one connection, from its hub subscription (which it ends)."""
    hub = hub_of(connection)
    renderer = renderer_of(connection)
    base_url = http_base(connection)
    try:
        async for event in hub.events(subscription, None):
            rendered = await renderer.render(event, base_url)
            if rendered is not None and stream.shows(rendered):
                yield rendered
    finally:
        hub.unsubscribe(subscription)


# Server-Sent Events -----------------------------------------------------------------------

AccessToken = Annotated[str | None, Query(description="the token, for clients without headers")]


async def event_stream(request: Request, stream: Stream, token: str | None) -> EventSourceResponse:
    grant = await connection_grant(request, token)
    user_id = check_access(stream, grant)
    services: ApiServices = request.app.state.services

    async def events() -> AsyncIterator[ServerSentEvent]:
        # Subscribed only once the response streams, so nothing leaks if it never does;
        # the first comment (as Mastodon's `:)`) says so: nothing after it is missed.
        subscription = await subscribe(request, stream, user_id, grant)
        yield ServerSentEvent(comment=")", sep=SEP)
        async for rendered in mastodon_events(request, stream, subscription):
            yield ServerSentEvent(data=rendered.payload, event=rendered.event, sep=SEP)

    return EventSourceResponse(
        events(),
        ping=services.config.stream_heartbeat_s,
        sep=SEP,
        ping_message_factory=lambda: ServerSentEvent(comment=HEARTBEAT, sep=SEP),
        headers={"Cache-Control": "no-store"},
    )


@router.get("/health", response_class=PlainTextResponse)
async def streaming_health() -> PlainTextResponse:
    """Whether the streaming API answers: `OK`."""
    return PlainTextResponse("OK")


@router.get("/user")
async def stream_user(request: Request, access_token: AccessToken = None) -> EventSourceResponse:
    """Your home timeline and notifications as they arrive."""
    return await event_stream(request, stream_named("user"), access_token)


@router.get("/user/notification")
async def stream_user_notification(
    request: Request, access_token: AccessToken = None
) -> EventSourceResponse:
    """Your notifications as they arrive."""
    return await event_stream(request, stream_named("user:notification"), access_token)


@router.get("/public")
async def stream_public(
    request: Request, access_token: AccessToken = None, only_media: bool = False
) -> EventSourceResponse:
    """Every new public status."""
    return await event_stream(request, stream_named("public", only_media=only_media), access_token)


@router.get("/public/local")
async def stream_public_local(
    request: Request, access_token: AccessToken = None, only_media: bool = False
) -> EventSourceResponse:
    """Every new public status of this server (every Chirp status is local)."""
    stream = stream_named("public:local", only_media=only_media)
    return await event_stream(request, stream, access_token)


@router.get("/public/remote")
async def stream_public_remote(
    request: Request, access_token: AccessToken = None, only_media: bool = False
) -> EventSourceResponse:
    """Statuses from other servers: none, as Chirp does not federate."""
    stream = stream_named("public:remote", only_media=only_media)
    return await event_stream(request, stream, access_token)


@router.get("/hashtag")
async def stream_hashtag(
    request: Request, tag: str | None = None, access_token: AccessToken = None
) -> EventSourceResponse:
    """Every new public status with the hashtag `tag` (without its `#`)."""
    return await event_stream(request, stream_named("hashtag", tag=tag), access_token)


@router.get("/hashtag/local")
async def stream_hashtag_local(
    request: Request, tag: str | None = None, access_token: AccessToken = None
) -> EventSourceResponse:
    """Every new status of this server with the hashtag `tag`."""
    return await event_stream(request, stream_named("hashtag:local", tag=tag), access_token)


# WebSocket --------------------------------------------------------------------------------


class WebSocketSession:
    """One WebSocket connection: its streams, each a task putting messages in one outbox
    that a single sender drains (one writer per socket)."""

    def __init__(self, socket: WebSocket, grant: Grant | None) -> None:
        self.socket = socket
        self.grant = grant
        self.outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(OUTBOX_LENGTH)
        self.streams: dict[tuple[str, ...], asyncio.Task[None]] = {}

    def post(self, message: dict[str, Any] | None) -> None:
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:  # too slow: end the connection; the client reconnects
            for task in self.streams.values():
                task.cancel()
            with contextlib.suppress(asyncio.QueueEmpty):
                self.outbox.get_nowait()
            self.outbox.put_nowait(None)

    async def subscribe(self, name: str, tag: str | None) -> None:
        """Subscribed before the next message is read: an answer to a later message means
        this stream misses nothing from then on."""
        try:
            stream = stream_named(name, tag=tag)
            user_id = check_access(stream, self.grant)
        except MastodonError as error:
            self.post({"error": error.message, "status": error.status, "stream": [name]})
            return
        if stream.name not in self.streams:
            subscription = await subscribe(self.socket, stream, user_id, self.grant)
            forward = self._forward(stream, subscription)
            self.streams[stream.name] = asyncio.create_task(forward)

    def unsubscribe(self, name: str, tag: str | None) -> None:
        with contextlib.suppress(MastodonError):
            task = self.streams.pop(stream_named(name, tag=tag).name, None)
            if task is not None:
                task.cancel()

    async def _forward(self, stream: Stream, subscription: Subscription) -> None:
        names = list(stream.name)
        async for rendered in mastodon_events(self.socket, stream, subscription):
            self.post({"stream": names, "event": rendered.event, "payload": rendered.payload})
        self.post(None)  # the hub let this connection go (too slow): the client reconnects

    async def receive(self) -> None:
        """Handles the client's messages until it goes away."""
        while True:
            try:
                text = await self.socket.receive_text()
            except WebSocketDisconnect:
                return
            try:
                message = orjson.loads(text)
            except orjson.JSONDecodeError:
                self.post({"error": "Invalid JSON", "status": 400})
                continue
            if not isinstance(message, dict) or not isinstance(message.get("stream"), str):
                self.post({"error": "Unknown message type", "status": 400})
                continue
            tag = message.get("tag")
            tag = str(tag) if tag is not None else None
            if message.get("type") == "subscribe":
                await self.subscribe(message["stream"], tag)
            elif message.get("type") == "unsubscribe":
                self.unsubscribe(message["stream"], tag)
            else:
                self.post({"error": "Unknown message type", "status": 400})

    async def send(self) -> None:
        while (message := await self.outbox.get()) is not None:
            await self.socket.send_text(orjson.dumps(message).decode())

    async def run(self, stream: str | None, tag: str | None) -> None:
        if stream is not None:
            await self.subscribe(stream, tag)
        receiving = asyncio.create_task(self.receive())
        sending = asyncio.create_task(self.send())
        try:
            await asyncio.wait((receiving, sending), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (receiving, sending, *self.streams.values()):
                task.cancel()
            tasks = (receiving, sending, *self.streams.values())
            await asyncio.gather(*tasks, return_exceptions=True)


@router.websocket("")
async def streaming_socket(
    websocket: WebSocket,
    stream: str | None = None,
    tag: str | None = None,
    access_token: str | None = None,
) -> None:
    """Mastodon's WebSocket: `?stream=` opens one stream; `{"type": "subscribe", "stream":
    ...}` and `unsubscribe` messages add and drop others; events arrive as `{"stream",
    "event", "payload"}`."""
    try:
        grant = await connection_grant(websocket, access_token)
        if stream is not None:
            check_access(stream_named(stream, tag=tag), grant)
    except MastodonError as error:
        await websocket.send_denial_response(
            error_response(error.status, error.message, error.headers)
        )
        return
    protocol = websocket.headers.get("sec-websocket-protocol")
    await websocket.accept(subprotocol=protocol or None)
    await WebSocketSession(websocket, grant).run(stream, tag)
    with contextlib.suppress(RuntimeError):  # already closed by the client
        await websocket.close()
