"""Notifications on the Mastodon surface: one per event (`/api/v1/notifications`) and grouped
(`/api/v2/notifications`), over the notifications read model `/v1/notifications` reads.

Chirp keeps notifications grouped (one group per type and target, its accounts scored by when
each acted); Mastodon's v1 lists one notification per event. A v1 notification is therefore one
account of one group, and its id says where it sits: 52 digits, the time in ms (13), the kind's
rank (1), the target tweet (19, 0 for follows) and the account (19). Ids sort as the list does,
newest largest, so `max_id`, `since_id` and `min_id` are plain bounds, and an id names its
notification again (`GET /api/v1/notifications/:id`) while that account is still in its group.

Types: like -> favourite, retweet -> reblog, follow -> follow, mention and reply -> mention
(Mastodon notifies a reply as a mention), quote -> quote (as Mastodon 4.5 does).

Chirp has no per-notification deletion: `clear` marks every notification read (the read
marker, `NotificationsRead`), and `dismiss` marks read up to the dismissed one; both stay
listed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from api.deps import CorrelationId
from api.hydration import TweetSources, hydrate
from api.mastodon.context import Masto, scoped
from api.mastodon.entities import account_entity
from api.mastodon.errors import NOT_FOUND, MastodonError, MastodonRoute
from api.mastodon.paging import link_header
from api.mastodon.params import Params, params_of
from api.mastodon.statuses_entity import status_entities
from api.positions import POSITION_HEADER, encode_token
from api.responses import json_response
from api.routes.notifications import NOTIFICATION_PROJECTIONS
from api.views import JsonObject, iso_time, user_summary
from projections.notifications import (
    KINDS,
    GroupDetail,
    GroupPosition,
    Notification,
    NotificationKey,
    group_details,
    group_positions,
    kind_of_rank,
    kind_rank,
    notification_time,
    notifications_between,
    read_marker,
)
from projections.users import profiles

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)

ReadNotifications = Annotated[Masto, Depends(scoped("read:notifications"))]
WriteNotifications = Annotated[Masto, Depends(scoped("write:notifications"))]

MASTODON_TYPE = {
    "mention": "mention",
    "reply": "mention",
    "quote": "quote",
    "like": "favourite",
    "retweet": "reblog",
    "follow": "follow",
}
GROUPED_TYPES = frozenset({"favourite", "reblog", "follow"})  # what Mastodon groups
DEFAULT_LIMIT = 40
MAX_LIMIT = 80
GROUP_SAMPLE = 8  # accounts named per group, as Mastodon's `sample_account_ids`
MAX_NEWER_GROUPS = 800  # groups a grouped `min_id`/`since_id` read may walk down
ID_DIGITS = 52
REFILLS = 5  # reads one page may make when notifications about deleted tweets drop out


# --- Ids ----------------------------------------------------------------------------------


def notification_id(notification: Notification) -> str:
    n = notification
    return f"{n.at_ms:013d}{kind_rank(n.kind)}{n.target_id:019d}{n.actor_id:019d}"


def key_of_number(number: int) -> NotificationKey:
    """The place a number (an id, or any bound a client sends) stands for in the list."""
    return (
        number // 10**39,
        (number // 10**38) % 10,
        (number // 10**19) % 10**19,
        number % 10**19,
    )


def parse_notification_id(text: str) -> Notification | None:
    """The notification an id names (who, what, when), or None for no id of ours."""
    if len(text) != ID_DIGITS or not text.isdigit():
        return None
    at_ms, rank, target, actor = key_of_number(int(text))
    kind = kind_of_rank(rank)
    if kind is None:
        return None
    return Notification(kind, 0, target, actor, at_ms)


def bound(params: Params, name: str) -> NotificationKey | None:
    text = params.text(name)
    if text in (None, ""):
        return None
    assert text is not None
    if not text.isdigit() or len(text) > ID_DIGITS:
        raise MastodonError(422, f"Validation failed: {name} is not a notification id")
    return key_of_number(int(text))


def limit_of(params: Params) -> int:
    text = params.text("limit")
    if text in (None, ""):
        return DEFAULT_LIMIT
    assert text is not None
    try:
        return max(1, min(int(text), MAX_LIMIT))
    except ValueError:
        raise MastodonError(422, "Validation failed: limit is not a number") from None


def kinds_of(params: Params) -> tuple[str, ...]:
    """Chirp's kinds for `types[]` and `exclude_types[]` (Mastodon's names; types Chirp
    never makes, such as `poll`, select nothing)."""
    wanted = set(params.texts("types"))
    excluded = set(params.texts("exclude_types"))
    return tuple(
        kind
        for kind in KINDS
        if (not wanted or MASTODON_TYPE[kind] in wanted) and MASTODON_TYPE[kind] not in excluded
    )


# --- Rendering ----------------------------------------------------------------------------


async def rendered(
    context: Masto, found: list[Notification]
) -> tuple[list[JsonObject], list[Notification]]:
    """The notifications as entities (in order), and those shown: one about a deleted tweet
    (or one not projected yet) is not."""
    services = context.services
    spaces = await services.read_models.namespaces(*NOTIFICATION_PROJECTIONS)
    targets = sorted({n.target_id for n in found if n.kind != "follow"})
    actors = sorted({n.actor_id for n in found})
    tweets, accounts = await asyncio.gather(
        hydrate(services.redis, TweetSources.of(spaces), targets, services.profiles),
        profiles(services.redis, spaces["users"], actors),
    )
    shown = [
        n for n in found if n.actor_id in accounts and (n.kind == "follow" or n.target_id in tweets)
    ]
    base_url = str(context.request.base_url)
    statuses = await _statuses(context, [tweets[n.target_id] for n in shown if n.kind != "follow"])
    entities = []
    for n in shown:
        entity: JsonObject = {
            "id": notification_id(n),
            "type": MASTODON_TYPE[n.kind],
            "group_key": group_key(n.kind, n.target_id, n),
            "created_at": iso_time(n.at_ms),
            "account": account_entity(user_summary(accounts[n.actor_id]), base_url),
        }
        if n.kind != "follow":
            entity["status"] = statuses[str(n.target_id)]
        entities.append(entity)
    return entities, shown


async def _statuses(context: Masto, views: list[JsonObject]) -> dict[str, JsonObject]:
    unique = list({str(view["id"]): view for view in views}.values())
    entities = await status_entities(
        context.services,
        unique,
        base_url=str(context.request.base_url),
        viewer_id=context.user.user_id,
    )
    return {entity["id"]: entity for entity in entities}


def group_key(kind: str, target_id: int, newest: Notification) -> str:
    """Mastodon's group key: favourites and reblogs of one status, and follows, are grouped;
    every other notification stands alone."""
    mastodon_type = MASTODON_TYPE[kind]
    if mastodon_type == "follow":
        return "follow"
    if mastodon_type in GROUPED_TYPES:
        return f"{mastodon_type}-{target_id}"
    return f"ungrouped-{notification_id(newest)}"


def links(request: Request, first_id: str | None, next_max_id: str | None) -> dict[str, str]:
    """`Link` (`rel="next"` older by `max_id`, `rel="prev"` newer by `min_id`) as a header."""
    link = link_header(request, first_id, next_max_id)
    return {"Link": link} if link else {}


# --- v1: one notification per event -------------------------------------------------------


@router.get("/api/v1/notifications")
async def list_notifications(context: ReadNotifications) -> Response:
    """Your notifications, one per event, newest first."""
    params = await params_of(context.request)
    limit = limit_of(params)
    kinds = kinds_of(params)
    below = bound(params, "max_id")
    min_id = bound(params, "min_id")
    above = min_id if min_id is not None else bound(params, "since_id")
    account = params.text("account_id")
    fresh = await context.fresh(*NOTIFICATION_PROJECTIONS)
    spaces = await context.services.read_models.namespaces("notifications")
    user_id = context.user.user_id
    entities: list[JsonObject] = []
    more = False
    last_read: Notification | None = None  # where the next (older) page starts
    for _ in range(REFILLS):
        batch = await notifications_between(
            context.services.redis,
            spaces["notifications"],
            user_id,
            kinds,
            count=limit - len(entities),
            above=above,
            below=below,
            oldest_first=min_id is not None,
        )
        more = len(batch) == limit - len(entities)
        last_read = batch[-1] if batch else last_read
        found = [n for n in batch if account is None or str(n.actor_id) == account]
        shown, _ = await rendered(context, found)
        entities += shown
        if not more or len(entities) >= limit:
            break
        # Some dropped out (deleted tweets, another account): read on past them.
        edge = batch[-1]
        key = (edge.at_ms, kind_rank(edge.kind), edge.target_id, edge.actor_id)
        if min_id is not None:
            above = key
        else:
            below = key
    if min_id is not None:
        entities.reverse()  # the oldest above `min_id`, shown newest first as Mastodon does
    if min_id is not None:
        next_max_id = entities[-1]["id"] if entities else None
    else:
        next_max_id = notification_id(last_read) if more and last_read is not None else None
    headers = links(context.request, entities[0]["id"] if entities else None, next_max_id)
    return json_response(entities, headers=headers | fresh.headers())


@router.get("/api/v1/notifications/unread_count")
async def unread_count(context: ReadNotifications) -> Response:
    """How many notifications are newer than your read marker (at most `limit`, 100 by
    default, as Mastodon counts)."""
    params = await params_of(context.request)
    limit = max(1, min(params.number("limit", 100), 1000))
    await context.fresh(*NOTIFICATION_PROJECTIONS)
    keys = (await context.services.read_models.namespaces("notifications"))["notifications"]
    user_id = context.user.user_id
    marker = await read_marker(context.services.redis, keys, user_id)
    above = (marker, 9, 10**19 - 1, 10**19 - 1)
    found = await notifications_between(
        context.services.redis, keys, user_id, kinds_of(params), count=limit, above=above
    )
    _, shown = await rendered(context, found)
    return json_response({"count": len(shown)})


async def _one(context: Masto, notification_id_text: str) -> Notification:
    """The caller's notification an id names; 404 unless it is (still) there."""
    named = parse_notification_id(notification_id_text)
    if named is None:
        raise MastodonError(404, NOT_FOUND)
    await context.fresh(*NOTIFICATION_PROJECTIONS)
    keys = (await context.services.read_models.namespaces("notifications"))["notifications"]
    user_id = context.user.user_id
    at_ms = await notification_time(
        context.services.redis, keys, user_id, named.kind, named.target_id, named.actor_id
    )
    if at_ms != named.at_ms:
        raise MastodonError(404, NOT_FOUND)
    return Notification(named.kind, user_id, named.target_id, named.actor_id, at_ms)


@router.get("/api/v1/notifications/{notification_id}")
async def get_notification(notification_id: str, context: ReadNotifications) -> Response:
    """One of your notifications."""
    found = await _one(context, notification_id)
    entities, _ = await rendered(context, [found])
    if not entities:
        raise MastodonError(404, NOT_FOUND)
    return json_response(entities[0])


@router.post("/api/v1/notifications/clear")
async def clear(context: WriteNotifications, correlation_id: CorrelationId = None) -> Response:
    """Mark every notification read (Chirp keeps them; the unread count drops to 0)."""
    user_id = context.user.user_id
    await context.fresh(*NOTIFICATION_PROJECTIONS)
    keys = (await context.services.read_models.namespaces("notifications"))["notifications"]
    newest = await notifications_between(context.services.redis, keys, user_id, KINDS, count=1)
    if not newest:
        return json_response({})
    return await _mark_read(context, newest[0].at_ms, correlation_id)


@router.post("/api/v1/notifications/{notification_id}/dismiss")
async def dismiss(
    notification_id: str, context: WriteNotifications, correlation_id: CorrelationId = None
) -> Response:
    """Mark read up to this notification (Chirp deletes no single notification)."""
    found = await _one(context, notification_id)
    return await _mark_read(context, found.at_ms, correlation_id)


async def _mark_read(context: Masto, up_to_ms: int, correlation_id: str | None) -> Response:
    position = await context.use_cases.mark_notifications_read(
        context.user.user_id, up_to_ms, correlation_id=correlation_id
    )
    return json_response({}, headers={POSITION_HEADER: encode_token([position])})


# --- v2: grouped --------------------------------------------------------------------------


def group_position_of(key: NotificationKey) -> GroupPosition | None:
    kind = kind_of_rank(key[1])
    return GroupPosition(key[0], kind, key[2]) if kind is not None else None


@router.get("/api/v2/notifications")
async def grouped_notifications(context: ReadNotifications) -> Response:
    """Your notifications grouped as Mastodon 4.3 groups them (favourites and reblogs per
    status, follows together; Chirp's follow group spans all time), newest group first."""
    params = await params_of(context.request)
    limit = limit_of(params)
    kinds = kinds_of(params)
    max_key = bound(params, "max_id")
    min_id = bound(params, "min_id")
    newer_than = min_id if min_id is not None else bound(params, "since_id")
    fresh = await context.fresh(*NOTIFICATION_PROJECTIONS)
    keys = (await context.services.read_models.namespaces("notifications"))["notifications"]
    redis = context.services.redis
    user_id = context.user.user_id
    after = group_position_of(max_key) if max_key is not None else None
    if newer_than is None:
        positions = await group_positions(redis, keys, user_id, kinds, count=limit + 1, after=after)
        more = len(positions) > limit
        positions = positions[:limit]
    else:
        # Newer groups: read down from the newest to the bound (bounded walk).
        floor = group_position_of(newer_than)
        newer = await group_positions(
            redis, keys, user_id, kinds, count=MAX_NEWER_GROUPS, after=after
        )
        newer = [p for p in newer if floor is None or p.sort_key() < floor.sort_key()]
        positions = newer[-limit:] if min_id is not None else newer[:limit]
        more = len(newer) > len(positions)
    details = await group_details(redis, keys, user_id, positions, sample=GROUP_SAMPLE)
    body = await _grouped_body(context, details)
    groups = body["notification_groups"]
    next_max_id = groups[-1]["most_recent_notification_id"] if groups and more else None
    first_id = groups[0]["most_recent_notification_id"] if groups else None
    return json_response(
        body, headers=links(context.request, first_id, next_max_id) | fresh.headers()
    )


async def _grouped_body(context: Masto, details: Iterable[GroupDetail]) -> JsonObject:
    details = list(details)
    newest = [
        Notification(d.position.kind, 0, d.position.target_id, d.newest[0][0], d.newest[0][1])
        for d in details
    ]
    sampled = [
        Notification(d.position.kind, 0, d.position.target_id, actor, at_ms)
        for d in details
        for actor, at_ms in d.newest
    ]
    entities, shown = await rendered(context, sampled)
    accounts = {entity["account"]["id"]: entity["account"] for entity in entities}
    statuses = {
        entity["status"]["id"]: entity["status"] for entity in entities if "status" in entity
    }
    visible = {(n.kind, n.target_id) for n in shown}
    groups = []
    for detail, latest in zip(details, newest, strict=True):
        position = detail.position
        if (position.kind, position.target_id) not in visible:
            continue
        oldest = Notification(position.kind, 0, position.target_id, *detail.oldest)
        group: JsonObject = {
            "group_key": group_key(position.kind, position.target_id, latest),
            "notifications_count": detail.count,
            "type": MASTODON_TYPE[position.kind],
            "most_recent_notification_id": notification_id(latest),
            "page_min_id": notification_id(oldest),
            "page_max_id": notification_id(latest),
            "latest_page_notification_at": iso_time(latest.at_ms),
            "sample_account_ids": [
                str(actor) for actor, _ in detail.newest if str(actor) in accounts
            ],
        }
        if position.kind != "follow":
            group["status_id"] = str(position.target_id)
        groups.append(group)
    return {
        "accounts": list(accounts.values()),
        "statuses": list(statuses.values()),
        "notification_groups": groups,
    }
