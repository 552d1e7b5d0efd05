"""The web client's pages: server-rendered HTML over the same use cases and reads as `/v1`.

A page calls the use case a JSON route calls for a write, and the JSON route's own read
function for a read (called in process, never over HTTP), then renders a template. Every POST
checks the CSRF token; every refusal is shown as a readable message, never as JSON. Must never
hold state of its own: the session is the API's JWT in a cookie.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.auth import Caller
from api.deps import BearerToken, Freshness, Page, caller_state, reads
from api.hydration import HYDRATION_PROJECTIONS
from api.problems import READABLE_ERRORS, Problem, readable
from api.responses import body_of
from api.routes import notifications, search, suggestions, timelines, trends, tweets, users
from api.services import ApiServices
from api.use_cases.errors import Refused
from api.use_cases.handlers import UseCases
from api.web.session import (
    CSRF_FIELD,
    clear_session,
    csrf_matches,
    csrf_token_of,
    remember_csrf,
    session_caller,
    set_session,
)
from api.web.static_files import STATIC_DIR, VENDORED
from domain.commands import PostTweet, RegisterUser
from domain.errors import DomainError
from domain.text import MAX_TWEET_CHARS
from projections.follow_graph import is_following

PAGE_SIZE = 20
# Pages run only the client's own files (no inline script), cannot be framed by another site,
# and send no referrer elsewhere. htmx adds one inline style for its request indicators.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
templates = Jinja2Templates(directory=STATIC_DIR.parent / "templates")


class WebRoute(APIRoute):
    """Routes whose refusals render as a readable page (or, for htmx, a message in place)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except READABLE_ERRORS as e:
                status, message = readable(e)
                return error_answer(request, status, message)

        return handle


router = APIRouter(include_in_schema=False, route_class=WebRoute)


@dataclass(frozen=True, slots=True)
class Web:
    """What a page needs: the request, the API's services and use cases, and who is signed in."""

    request: Request
    services: ApiServices
    use_cases: UseCases
    caller: Caller | None

    @property
    def user(self) -> Caller:
        if self.caller is None:  # pages that need a user redirect first (`signed_in`)
            raise Problem(401, "log in first", title="Unauthorized")
        return self.caller

    async def fresh(self, *projections: str) -> Freshness:
        """Waits (bounded) for the caller's own latest writes, as the JSON reads do."""
        wait = reads(*projections)
        freshness: Freshness = await wait(
            self.services,
            await caller_state(BearerToken(self.caller), self.services),
            self.request.app.state.lag_watch,
            None,
        )
        return freshness


async def web(request: Request) -> Web:
    services: ApiServices = request.app.state.services
    return Web(
        request, services, request.app.state.use_cases, session_caller(request, services.tokens)
    )


WebDep = Annotated[Web, Depends(web)]


async def checked_form(request: Request) -> None:
    """Every POST carries the CSRF token (form field or `X-CSRF-Token` header)."""
    submitted = None
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    if not csrf_matches(request, submitted):
        raise Problem(403, "the form expired or came from another site: reload the page and retry")


CSRF = [Depends(checked_form)]


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target on this site only."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return default


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    caller: Caller | None = None,
) -> HTMLResponse:
    values = {
        "caller": caller,
        "csrf_token": csrf_token_of(request),
        "csrf_field": CSRF_FIELD,
        "vendored": VENDORED,
        "max_chars": MAX_TWEET_CHARS,
        **(context or {}),
    }
    response = templates.TemplateResponse(
        request, template, values, status_code=status, headers=PAGE_HEADERS
    )
    remember_csrf(request, response)
    return response


def error_answer(request: Request, status: int, message: str) -> Response:
    if is_htmx(request):
        # htmx swaps only 2xx answers: the message replaces the page's alert region instead.
        answer = render(request, "_alert.html", {"message": message})
        answer.headers["HX-Retarget"] = "#alert"
        answer.headers["HX-Reswap"] = "innerHTML"
        return answer
    services: ApiServices | None = getattr(request.app.state, "services", None)
    caller = session_caller(request, services.tokens) if services is not None else None
    return render(request, "error.html", {"message": message}, status=status, caller=caller)


def see_other(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


async def page_of(web: Web, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """A full page; the navigation shows the unread notification count of a signed-in user."""
    unread = await unread_count(web) if web.caller is not None else 0
    return render(
        web.request, template, {"unread": unread, **context}, status=status, caller=web.caller
    )


async def unread_count(web: Web) -> int:
    fresh = await web.fresh("notifications", "tweets")
    answer = await notifications.unread_count(web.user, web.services, fresh)
    return int(body_of(answer)["count"])


def signed_in(web: Web) -> Response | None:
    """A redirect to the log-in page for a visitor, None for a signed-in user."""
    if web.caller is not None:
        return None
    target = web.request.url.path
    return see_other(f"/login?next={quote(target)}")


# Accounts -----------------------------------------------------------------------------------


@router.get("/signup")
async def signup_page(web: WebDep) -> Response:
    return await page_of(web, "signup.html", {})


async def start_session(web: Web, handle: str, password: str, target: str) -> Response:
    session = await web.use_cases.log_in(handle, password)
    response = see_other(safe_next(target))
    set_session(web.request, response, session.access_token, session.expires_in_s)
    return response


@router.post("/signup", dependencies=CSRF)
async def signup(
    web: WebDep,
    handle: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        await web.use_cases.register(RegisterUser(handle, password, display_name or None))
    except (Refused, DomainError) as refused:
        status, message = readable(refused)
        values = {"message": message, "handle": handle, "display_name": display_name}
        return await page_of(web, "signup.html", values, status=status)
    return await start_session(web, handle, password, "/")


@router.get("/login")
async def login_page(web: WebDep, next: Annotated[str, Query(max_length=500)] = "/") -> Response:
    return await page_of(web, "login.html", {"next": safe_next(next)})


@router.post("/login", dependencies=CSRF)
async def login(
    web: WebDep,
    handle: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    try:
        return await start_session(web, handle, password, next)
    except Refused as refused:
        status, message = readable(refused)
        values = {"message": message, "handle": handle, "next": safe_next(next)}
        return await page_of(web, "login.html", values, status=status)


@router.post("/logout", dependencies=CSRF)
async def logout() -> Response:
    response = see_other("/login")
    clear_session(response)
    return response


# Home and compose ---------------------------------------------------------------------------


async def home_page(web: Web, cursor: int | None) -> dict[str, Any]:
    fresh = await web.fresh(*timelines.HOME_PROJECTIONS)
    answer = await timelines.home(
        web.user, web.services, Page(PAGE_SIZE, cursor), fresh, web.request.app.state.metrics
    )
    payload: dict[str, Any] = body_of(answer)
    return payload


@router.get("/")
async def home(web: WebDep) -> Response:
    if (redirect := signed_in(web)) is not None:
        return redirect
    page = await home_page(web, None)
    return await page_of(web, "home.html", {"page": page})


@router.get("/timeline")
async def home_more(web: WebDep, cursor: Annotated[int, Query(ge=0)]) -> Response:
    """The next page of the home timeline, as the list items and a new "load more"."""
    if (redirect := signed_in(web)) is not None:
        return redirect
    page = await home_page(web, cursor)
    values = {"page": page, "more_url": "/timeline"}
    return render(web.request, "_tweet_page.html", values, caller=web.caller)


@router.post("/compose", dependencies=CSRF)
async def compose(
    web: WebDep,
    text: Annotated[str, Form(max_length=4 * MAX_TWEET_CHARS)],
    reply_to: Annotated[str, Form(max_length=20)] = "",
    alt_text: Annotated[str, Form(max_length=1500)] = "",
    image: Annotated[UploadFile | None, File()] = None,
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    caller = web.user
    media_ids: tuple[int, ...] = ()
    if image is not None and image.filename:
        data = await image.read()
        if data:
            uploaded = await web.use_cases.upload_media(caller.user_id, data, alt_text or None)
            media_ids = (uploaded.event.media_id,)
    parent = tweets.tweet_id_in_path(reply_to) if reply_to else None
    command = PostTweet(author_id=caller.user_id, text=text, reply_to=parent, media_ids=media_ids)
    await web.use_cases.post_tweet(command)
    return see_other(safe_next(next))


# Tweets -------------------------------------------------------------------------------------


async def tweet_object(web: Web, tweet_id: str) -> dict[str, Any]:
    fresh = await web.fresh(*HYDRATION_PROJECTIONS)
    payload: dict[str, Any] = body_of(await tweets.get_tweet(tweet_id, web.services, fresh))
    return payload


@router.get("/tweets/{tweet_id}/card")
async def tweet_card(web: WebDep, tweet_id: str) -> Response:
    """One tweet as a timeline item (the live stream's entries are rendered with it)."""
    tweet = await tweet_object(web, tweet_id)
    return render(web.request, "_tweet_item.html", {"tweet": tweet}, caller=web.caller)


@router.get("/tweets/{tweet_id}")
async def thread(web: WebDep, tweet_id: str) -> Response:
    fresh = await web.fresh(*HYDRATION_PROJECTIONS)
    answer = await tweets.thread(tweet_id, web.services, Page(100, None), fresh)
    return await page_of(web, "thread.html", {"thread": body_of(answer)})


TweetWrite = Callable[[UseCases, int, int], Awaitable[Any]]
TWEET_WRITES: dict[str, TweetWrite] = {
    "like": lambda cases, tweet, user: cases.like(tweet, user),
    "unlike": lambda cases, tweet, user: cases.unlike(tweet, user),
    "retweet": lambda cases, tweet, user: cases.retweet(tweet, user),
    "unretweet": lambda cases, tweet, user: cases.undo_retweet(tweet, user),
    "delete": lambda cases, tweet, user: cases.delete_tweet(tweet, user),
}


@router.post("/tweets/{tweet_id}/{action}", dependencies=CSRF)
async def tweet_action(
    web: WebDep,
    tweet_id: str,
    action: str,
    next: Annotated[str, Form(max_length=500)] = "/",
    entry: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Like, unlike, retweet, undo a retweet or delete; htmx gets the tweet back re-rendered."""
    write = TWEET_WRITES.get(action)
    if write is None:
        raise Problem(404, f"no action {action!r} on a tweet")
    await write(web.use_cases, tweets.tweet_id_in_path(tweet_id), web.user.user_id)
    if not is_htmx(web.request):
        return see_other(safe_next(next))
    if action == "delete":
        return HTMLResponse("")  # the item is swapped out
    tweet = await tweet_object(web, entry or tweet_id)  # a retweet entry stays one
    values = {"tweet": tweet, "done": action}
    return render(web.request, "_tweet_item.html", values, caller=web.caller)


# Profiles -----------------------------------------------------------------------------------


@router.get("/@{handle}")
async def profile(
    web: WebDep, handle: str, cursor: Annotated[int | None, Query(ge=0)] = None
) -> Response:
    fresh_user = await web.fresh("users", "user_timelines", "follow_graph")
    user = body_of(await users.get_user(handle, web.services, fresh_user))
    fresh_tweets = await web.fresh("user_timelines", *HYDRATION_PROJECTIONS)
    answer = await users.user_tweets(handle, web.services, Page(PAGE_SIZE, cursor), fresh_tweets)
    follows = None
    if web.caller is not None and str(web.caller.user_id) != user["id"]:
        follows = await is_followed(web, int(user["id"]))
    values = {"user": user, "page": body_of(answer), "follows": follows}
    return await page_of(web, "profile.html", values)


async def is_followed(web: Web, user_id: int) -> bool:
    graph = (await web.services.read_models.namespaces("follow_graph"))["follow_graph"]
    return await is_following(web.services.redis, graph, web.user.user_id, user_id)


@router.post("/@{handle}/follow", dependencies=CSRF)
async def follow(web: WebDep, handle: str) -> Response:
    await web.use_cases.follow(web.user.user_id, handle)
    return see_other(f"/@{quote(handle)}")


@router.post("/@{handle}/unfollow", dependencies=CSRF)
async def unfollow(web: WebDep, handle: str) -> Response:
    await web.use_cases.unfollow(web.user.user_id, handle)
    return see_other(f"/@{quote(handle)}")


# Discovery ----------------------------------------------------------------------------------


@router.get("/trends")
async def trending(web: WebDep) -> Response:
    fresh = await web.fresh("trends")
    answer = body_of(await trends.trends(web.services, fresh, 20))
    return await page_of(web, "trends.html", {"trends": answer})


@router.get("/search")
async def search_page(
    web: WebDep,
    q: Annotated[str, Query(max_length=200)] = "",
    kind: Annotated[str, Query(pattern="^(tweets|users)$")] = "tweets",
) -> Response:
    results: dict[str, Any] | None = None
    if q.strip():
        bearer = BearerToken(web.caller)
        if kind == "users":
            query = search.SearchUsersQuery(q=q.strip()[:64])
            fresh = await web.fresh("users")
            results = body_of(await search.search_users(query, web.services, fresh))
        else:
            tweets_query = search.SearchTweetsQuery(q=q.strip())
            index = search.tweet_index(web.request, web.services)
            fresh = await web.fresh(*search.SEARCH_PROJECTIONS)
            index_fresh = await search.index_freshness(
                web.services, await caller_state(bearer, web.services), index
            )
            answer = await search.search_tweets(
                tweets_query, web.services, index, fresh, index_fresh
            )
            results = body_of(answer)
    return await page_of(web, "search.html", {"q": q, "kind": kind, "results": results})


@router.get("/notifications")
async def notifications_page(web: WebDep) -> Response:
    if (redirect := signed_in(web)) is not None:
        return redirect
    fresh = await web.fresh(*notifications.NOTIFICATION_PROJECTIONS)
    query = notifications.NotificationQuery(limit=50)
    answer = body_of(await notifications.list_notifications(web.user, web.services, query, fresh))
    return await page_of(web, "notifications.html", {"notifications": answer})


@router.get("/notifications/unread")
async def unread_badge(web: WebDep) -> Response:
    """The navigation's unread count, refreshed when the live stream says something arrived."""
    unread = await unread_count(web) if web.caller is not None else 0
    return render(web.request, "_unread_badge.html", {"unread": unread}, caller=web.caller)


@router.post("/notifications/read", dependencies=CSRF)
async def notifications_read(
    web: WebDep, up_to: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    """Marks read up to the newest notification shown (or now)."""
    moment = up_to or datetime.now(UTC).isoformat()
    await web.use_cases.mark_notifications_read(
        web.user.user_id, notifications.notification_time_ms(moment)
    )
    return see_other("/notifications")


@router.get("/suggestions")
async def who_to_follow(web: WebDep) -> Response:
    if (redirect := signed_in(web)) is not None:
        return redirect
    fresh = await web.fresh("users", "follow_graph")
    query = suggestions.SuggestionsQuery(limit=20)
    answer = body_of(await suggestions.suggest(web.user, web.services, query, fresh))
    return await page_of(web, "suggestions.html", {"suggestions": answer})
