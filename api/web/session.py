"""The browser session: the API's own JWT in an HttpOnly, SameSite=Lax cookie, and a
double-submit CSRF token that every form post and htmx request must echo.

Owns the two cookie names and how they are read and checked. Must never accept the session
cookie on a JSON route that writes: only the live stream (a GET) takes it besides Bearer.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import Response

from api.auth import Caller, InvalidToken, TokenIssuer
from api.deps import Bearer, Services
from api.problems import Problem

SESSION_COOKIE = "chirp_session"
CSRF_COOKIE = "chirp_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

_bearer = HTTPBearer(auto_error=False)


def session_caller(request: Request, tokens: TokenIssuer) -> Caller | None:
    """Whom the session cookie names, or None (absent, expired or forged)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return tokens.verify(token)
    except InvalidToken:
        return None


async def bearer_or_session(
    request: Request,
    services: Services,
    bearer: Bearer,
    # Declares the bearer scheme in the OpenAPI document, as `CurrentUser` does.
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller named by a bearer token, else by the web client's session cookie (an
    EventSource cannot send headers); 401 when neither names anybody."""
    if bearer.caller is not None:
        return bearer.caller
    caller = session_caller(request, services.tokens)
    if caller is None:
        challenge = {"WWW-Authenticate": "Bearer"}
        raise Problem(401, bearer.refusal, title="Unauthorized", headers=challenge)
    return caller


CurrentUserOrSession = Annotated[Caller, Depends(bearer_or_session)]


def csrf_token_of(request: Request) -> str:
    """The token the pages embed: the CSRF cookie's, or a new one (set by `remember_csrf`)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) >= 32:
        return existing
    token: str | None = getattr(request.state, "new_csrf", None)
    if token is None:
        token = request.state.new_csrf = secrets.token_urlsafe(32)
    return token


def remember_csrf(request: Request, response: Response) -> None:
    """Sets the CSRF cookie when this request made a new token."""
    token = getattr(request.state, "new_csrf", None)
    if token is not None:
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="lax", secure=request.url.scheme == "https"
        )


def csrf_matches(request: Request, submitted: str | None) -> bool:
    """Double submit: the form field or header equals the cookie a cross-site page cannot
    read or set (SameSite=Lax keeps it off cross-site posts as well)."""
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = submitted or request.headers.get(CSRF_HEADER)
    return bool(cookie and sent) and hmac.compare_digest(str(cookie), str(sent))


def set_session(request: Request, response: Response, token: str, max_age_s: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age_s,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)
