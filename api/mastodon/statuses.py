"""Statuses: post, read, delete, thread context, favourite, reblog, bookmark and who
favourited or reblogged one.

Writes call the same use cases as `/v1` (so the same events, rules and idempotency: the
`Idempotency-Key` middleware covers this path as every POST); reads call the `/v1` routes in
process and render their views as Mastodon entities. Chirp posts are public: any other
visibility, a content warning, a poll or sensitive media are refused with 422 before
anything is produced.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api.deps import Freshness, Page
from api.hydration import HYDRATION_PROJECTIONS
from api.mastodon.context import Masto, scoped
from api.mastodon.entities import account_entity
from api.mastodon.errors import MastodonError, MastodonRoute
from api.mastodon.paging import Window, page_headers
from api.mastodon.params import Params, params_of
from api.mastodon.statuses_entity import status_entities
from api.mastodon.timelines import readable_with
from api.positions import POSITION_HEADER, encode_token
from api.responses import body_of, json_response
from api.routes import tweets
from api.use_cases.collections_adapters import collection_use_cases
from api.views import JsonObject, tweet_view, user_summary
from domain.commands import PostTweet
from domain.ids import parse_id
from projections.media import media_descriptions
from projections.tweets import retweet_of_user, retweeters_of, stored_tweet, tweets_by_id
from projections.users import UserProfile, profiles

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)

WriteStatuses = Annotated[Masto, Depends(scoped("write:statuses"))]
WriteFavourites = Annotated[Masto, Depends(scoped("write:favourites"))]
WriteBookmarks = Annotated[Masto, Depends(scoped("write:bookmarks"))]
PublicStatuses = Annotated[Masto, Depends(readable_with("read:statuses"))]
PublicAccounts = Annotated[Masto, Depends(readable_with("read:accounts"))]

STATUS_READS = (*HYDRATION_PROJECTIONS, "bookmarks")
MAX_DESCENDANTS = 60  # statuses a context lists below the one asked for
MAX_ANCESTORS = 40
UNSUPPORTED = "Validation failed: {} (Chirp posts are public, without content warnings or polls)"


# Reading ------------------------------------------------------------------------------------


async def rendered(context: Masto, views: list[JsonObject]) -> list[JsonObject]:
    return await status_entities(
        context.services,
        views,
        base_url=str(context.request.base_url),
        viewer_id=context.caller.user_id if context.caller is not None else None,
    )


async def view_of(context: Masto, status_id: str | int, fresh: Freshness) -> JsonObject:
    """The `/v1` view of a status (a tweet, or a retweet entry); 404 for none."""
    view: JsonObject = body_of(await tweets.get_tweet(str(status_id), context.services, fresh))
    return view


async def status_answer(context: Masto, status_id: str | int) -> Response:
    """The status as the caller sees it now, their own latest writes applied (bounded)."""
    fresh = await context.fresh(*STATUS_READS)
    view = await view_of(context, status_id, fresh)
    return json_response((await rendered(context, [view]))[0], headers=fresh.headers())


async def original_id(context: Masto, status_id: str) -> int:
    """The tweet a status id names: itself, or the original a reblog's id stands for."""
    parsed = tweets.tweet_id_in_path(status_id)  # 404 for a text that is no id
    space = (await context.services.read_models.namespaces("tweets"))["tweets"]
    found = await tweets_by_id(context.services.redis, space, [parsed])
    if found and found[0]["retweet_of"]:
        return int(found[0]["retweet_of"])
    return parsed  # a tweet, or one so young the use case waits for it


@router.get("/api/v1/statuses/{status_id}")
async def get_status(status_id: str, context: PublicStatuses) -> Response:
    """One status (a reblog is answered as one, wrapping the original)."""
    return await status_answer(context, status_id)


@router.get("/api/v1/statuses/{status_id}/context")
async def status_context(status_id: str, context: PublicStatuses) -> Response:
    """The statuses it replies to (root first) and the replies below it, depth first,
    oldest first at each level (up to `MAX_DESCENDANTS`)."""
    fresh = await context.fresh(*HYDRATION_PROJECTIONS)
    tweet_id = await original_id(context, status_id)

    async def thread_of(tweet: str) -> JsonObject:
        page = Page(MAX_DESCENDANTS, None)
        thread: JsonObject = body_of(await tweets.thread(tweet, context.services, page, fresh))
        return thread

    top = await thread_of(str(tweet_id))
    descendants: list[JsonObject] = []

    async def walk(replies: list[JsonObject]) -> None:
        for reply in replies:
            if len(descendants) >= MAX_DESCENDANTS:
                return
            descendants.append(reply)
            if reply.get("reply_count"):
                await walk((await thread_of(reply["id"]))["replies"])

    await walk(top["replies"])
    ancestors = top["ancestors"][-MAX_ANCESTORS:]
    statuses = await rendered(context, [*ancestors, *descendants])
    body = {"ancestors": statuses[: len(ancestors)], "descendants": statuses[len(ancestors) :]}
    return json_response(body, headers=fresh.headers())


# Posting and deleting -----------------------------------------------------------------------


def post_command(params: Params, author_id: int) -> PostTweet:
    """The tweet a status post asks for; 422 for what Chirp does not do."""
    visibility = params.text("visibility")
    if visibility not in (None, "", "public"):
        raise MastodonError(422, UNSUPPORTED.format(f"visibility '{visibility}' is not supported"))
    if params.text("spoiler_text"):
        raise MastodonError(422, UNSUPPORTED.format("spoiler_text is not supported"))
    if any(name == "poll" or name.startswith("poll[") for name in params.values):
        raise MastodonError(422, UNSUPPORTED.format("polls are not supported"))
    if params.flag("sensitive"):
        raise MastodonError(422, UNSUPPORTED.format("sensitive media is not supported"))
    if params.text("scheduled_at"):
        raise MastodonError(422, UNSUPPORTED.format("scheduled statuses are not supported"))
    media_ids = []
    for text in params.texts("media_ids"):
        media_id = parse_id(text)
        if media_id is None:
            raise MastodonError(422, f"Validation failed: media id {text!r} is not an id")
        media_ids.append(media_id)
    reply_to = params.text("in_reply_to_id")
    return PostTweet(
        author_id=author_id,
        text=params.text("status") or "",
        reply_to=tweets.tweet_id_in_path(reply_to) if reply_to else None,
        media_ids=tuple(media_ids),
    )


@router.post("/api/v1/statuses")
async def post_status(context: WriteStatuses) -> Response:
    """Post a status (a tweet): text, a reply, attached media; `Idempotency-Key` honoured."""
    caller = context.user
    command = post_command(await params_of(context.request), caller.user_id)
    posted = await context.use_cases.post_tweet(command)
    # As `/v1`: the author's name comes from the token; only attachments are read back.
    author = UserProfile(caller.user_id, caller.handle, caller.display_name, 0)
    media: dict[int, JsonObject] = {}
    if command.media_ids:
        space = (await context.services.read_models.namespaces("media"))["media"]
        media = await media_descriptions(context.services.redis, space, list(command.media_ids))
    view = tweet_view(stored_tweet(posted.event), {caller.user_id: author}, media=media)
    status = (await rendered(context, [view]))[0]
    return json_response(status, headers={POSITION_HEADER: encode_token([posted.position])})


@router.delete("/api/v1/statuses/{status_id}")
async def delete_status(status_id: str, context: WriteStatuses) -> Response:
    """Delete one of your statuses (or undo your reblog, named by its id); answers what was
    deleted, with its source `text`, as Mastodon does for "delete and redraft"."""
    caller = context.user
    fresh = await context.fresh(*STATUS_READS)
    view = await view_of(context, status_id, fresh)
    status = (await rendered(context, [view]))[0]
    if view.get("retweet_of") and view["author"]["id"] == str(caller.user_id):
        await context.use_cases.undo_retweet(int(view["retweet_of"]), caller.user_id)
    else:
        await context.use_cases.delete_tweet(int(view["id"]), caller.user_id)  # 403 if not yours
    status["text"] = view.get("text") or ""
    return json_response(status)


# Favourites, reblogs, bookmarks -------------------------------------------------------------


@router.post("/api/v1/statuses/{status_id}/favourite")
async def favourite(status_id: str, context: WriteFavourites) -> Response:
    tweet_id = await original_id(context, status_id)
    await context.use_cases.like(tweet_id, context.user.user_id)
    return await status_answer(context, tweet_id)


@router.post("/api/v1/statuses/{status_id}/unfavourite")
async def unfavourite(status_id: str, context: WriteFavourites) -> Response:
    tweet_id = await original_id(context, status_id)
    await context.use_cases.unlike(tweet_id, context.user.user_id)
    return await status_answer(context, tweet_id)


@router.post("/api/v1/statuses/{status_id}/reblog")
async def reblog(status_id: str, context: WriteStatuses) -> Response:
    """Reblog (retweet); answers the reblog, wrapping the original. Twice is once."""
    params = await params_of(context.request)
    if params.text("visibility") not in (None, "", "public"):
        raise MastodonError(422, UNSUPPORTED.format("a reblog's visibility is public"))
    tweet_id = await original_id(context, status_id)
    user_id = context.user.user_id
    await context.use_cases.retweet(tweet_id, user_id)
    fresh = await context.fresh(*STATUS_READS)
    space = (await context.services.read_models.namespaces("tweets"))["tweets"]
    entry = await retweet_of_user(context.services.redis, space, tweet_id, user_id)
    view = await view_of(context, entry if entry is not None else tweet_id, fresh)
    return json_response((await rendered(context, [view]))[0], headers=fresh.headers())


@router.post("/api/v1/statuses/{status_id}/unreblog")
async def unreblog(status_id: str, context: WriteStatuses) -> Response:
    """Undo a reblog; answers the original status."""
    tweet_id = await original_id(context, status_id)
    await context.use_cases.undo_retweet(tweet_id, context.user.user_id)
    return await status_answer(context, tweet_id)


@router.post("/api/v1/statuses/{status_id}/bookmark")
async def bookmark(status_id: str, context: WriteBookmarks) -> Response:
    tweet_id = await original_id(context, status_id)
    collections = collection_use_cases(context.request)
    await collections.bookmark(context.user.user_id, tweet_id)
    return await status_answer(context, tweet_id)


@router.post("/api/v1/statuses/{status_id}/unbookmark")
async def unbookmark(status_id: str, context: WriteBookmarks) -> Response:
    tweet_id = await original_id(context, status_id)
    collections = collection_use_cases(context.request)
    await collections.remove_bookmark(context.user.user_id, tweet_id)
    return await status_answer(context, tweet_id)


# Who favourited or reblogged ----------------------------------------------------------------


@router.get("/api/v1/statuses/{status_id}/favourited_by")
async def favourited_by(status_id: str, context: PublicAccounts) -> Response:
    """The accounts that favourited a status (`max_id` from the `Link` pages on)."""
    window = Window.of(await params_of(context.request))
    tweet_id = await original_id(context, status_id)
    fresh = await context.fresh("tweets", "likes", "users")
    page = Page(window.limit, window.max_id)
    answer = body_of(await tweets.liking_users(str(tweet_id), context.services, page, fresh))
    return accounts_page(context, answer["data"], answer["next_cursor"], fresh)


@router.get("/api/v1/statuses/{status_id}/reblogged_by")
async def reblogged_by(status_id: str, context: PublicAccounts) -> Response:
    """The accounts whose reblog of a status stands (`max_id` from the `Link` pages on)."""
    window = Window.of(await params_of(context.request))
    tweet_id = await original_id(context, status_id)
    fresh = await context.fresh("tweets", "users")
    services = context.services
    await tweets.existing_tweet(services, str(tweet_id))  # 404 for none
    spaces = await services.read_models.namespaces("tweets", "users")
    after = window.max_id or 0
    retweeters = await retweeters_of(services.redis, spaces["tweets"], tweet_id)
    following = [user for user in retweeters if user > after]
    page_ids = following[: window.limit]
    found = await profiles(services.redis, spaces["users"], page_ids)
    users = [user_summary(found[user]) for user in page_ids if user in found]
    more = len(following) > len(page_ids)
    return accounts_page(context, users, str(page_ids[-1]) if more else None, fresh)


def accounts_page(
    context: Masto, users: list[JsonObject], next_cursor: str | None, fresh: Freshness
) -> Response:
    base_url = str(context.request.base_url)
    accounts = [account_entity(user, base_url) for user in users]
    headers = page_headers(context.request, [], next_cursor) | fresh.headers()
    return json_response(accounts, headers=headers)
