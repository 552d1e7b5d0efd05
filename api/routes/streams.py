"""Live streams as Server-Sent Events: new home-timeline entries as they are applied."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from api import contract
from api.deps import Services
from api.hydration import HYDRATION_PROJECTIONS, TweetSources, hydrate_entries
from api.live import LiveHub
from api.services import ApiServices
from api.views import user_summary
from api.web.session import CurrentUserOrSession
from projections.entries import TimelineEntry
from projections.follow_graph import following_key, user_page
from projections.live import LiveEntry
from projections.users import profiles

router = APIRouter(prefix="/v1/streams", tags=["streams"])

MAX_FOLLOWEES = 20_000  # whom a connection listens to is read once, up to this many


def live_hub_for(services: ApiServices) -> LiveHub:
    """The process's hub, reading the serving live feed and hydrating like the timelines."""
    models = services.read_models

    async def feed_space() -> Any:
        return (await models.namespaces("live"))["live"]

    async def hydrate(entries: list[LiveEntry]) -> dict[int, Any]:
        spaces = await models.namespaces(*HYDRATION_PROJECTIONS)
        timeline = [
            TimelineEntry(e.entry_id, e.tweet_id, e.actor_id, e.actor_id)
            if e.kind == "tweet"
            else TimelineEntry(e.entry_id, e.tweet_id, e.actor_id, e.subject_id)
            for e in entries
        ]
        return await hydrate_entries(
            services.redis, TweetSources.of(spaces), timeline, services.profiles
        )

    async def load_followees(user_id: int) -> set[int]:
        graph = (await models.namespaces("follow_graph"))["follow_graph"]
        ids, _ = await user_page(
            services.redis, following_key(graph, user_id), limit=MAX_FOLLOWEES, after=None
        )
        return set(ids)

    async def describe_accounts(user_ids: list[int]) -> dict[int, Any]:
        users = (await models.namespaces("users"))["users"]
        found = await profiles(services.redis, users, user_ids)
        return {user_id: user_summary(profile) for user_id, profile in found.items()}

    return LiveHub(services.redis, feed_space, hydrate, load_followees, describe_accounts)


async def get_hub(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.live_hub
    return hub


Hub = Annotated[LiveHub, Depends(get_hub)]


@router.get(
    "/home",
    responses={
        200: {
            "description": "An event stream: `ready` (connected; its id is a resume point), "
            "`entry` (a tweet object, as in timelines), `delete` and `unretweet` "
            "(`{tweet_id, user_id}`: take it away), `notification` (`{type, target, account, "
            "at}`: someone mentioned, replied to, quoted, liked, retweeted or followed you), "
            "`reset` (reload: the stream cannot resume from the given id).",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **contract.read(401),
    },
)
async def home_stream(
    caller: CurrentUserOrSession,  # the web client's EventSource sends its session cookie
    services: Services,
    hub: Hub,
    last_event_id: Annotated[str | None, Header(pattern=r"^\d{1,15}-\d{1,10}$")] = None,
) -> EventSourceResponse:
    """New entries of your home timeline as they arrive; resume with `Last-Event-ID`
    (a bearer token, or the web client's session cookie)."""

    async def events() -> AsyncIterator[ServerSentEvent]:
        # Subscribed only once the response streams, so nothing leaks if it never does.
        subscription = await hub.subscribe(caller.user_id)
        try:
            async for event in hub.events(subscription, last_event_id):
                yield ServerSentEvent(data=event.data, event=event.event, id=event.id)
        finally:
            hub.unsubscribe(subscription)

    return EventSourceResponse(events(), ping=services.config.stream_heartbeat_s)
