"""The authorization-code grant's page: `GET /oauth/authorize` shows a person the app and the
scopes it asks for, with a log-in form (handle or email, and password); `POST` approves (a code
for `/oauth/token`, sent to the app's redirect URI with `state`, or shown on a page for the
out-of-band URI) or denies (`error=access_denied`). PKCE: a `code_challenge` (S256) is kept
with the code and checked when it is redeemed.

The form is protected by the web client's double-submit CSRF token (`api.web.session`), and
the pages may not be framed (an approve button in someone else's frame is clickjacking).
Until the request names a registered app and one of its redirect URIs, errors are shown here,
never sent to a URI nobody vouched for."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.mastodon.context import oauth_store
from api.mastodon.errors import MastodonRoute
from api.mastodon.oauth import OUT_OF_BAND
from api.mastodon.params import Params, params_of
from api.mastodon.scopes import UnknownScope, parse_scopes, within
from api.mastodon.tokens import Grant, OAuthApp
from api.use_cases.errors import WrongCredentials
from api.use_cases.handlers import UseCases
from api.web.session import CSRF_FIELD, csrf_matches, csrf_token_of, remember_csrf

router = APIRouter(route_class=MastodonRoute, include_in_schema=False)

CHALLENGE_METHODS = ("S256",)
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}"
    "label{display:block;margin:.6rem 0}input[type=text],input[type=password]{width:100%;"
    "padding:.4rem}button{margin:.8rem .4rem 0 0;padding:.4rem 1rem}.error{color:#b00020}"
    "code{font-size:1.2rem;word-break:break-all}"
)


class AuthorizeRefused(Exception):
    """The request names no app or redirect URI this page may answer to: shown, not sent."""


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """What an authorization request asks: checked against the app it names."""

    app: OAuthApp
    redirect_uri: str
    scopes: frozenset[str]
    state: str | None
    code_challenge: str | None
    code_challenge_method: str

    def hidden_fields(self) -> dict[str, str]:
        fields = {
            "client_id": self.app.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": " ".join(sorted(self.scopes)),
        }
        if self.state is not None:
            fields["state"] = self.state
        if self.code_challenge is not None:
            fields["code_challenge"] = self.code_challenge
            fields["code_challenge_method"] = self.code_challenge_method
        return fields


async def authorization_request(request: Request, params: Params) -> AuthorizationRequest:
    app = await oauth_store(request).app(params.text("client_id") or "")
    if app is None:
        raise AuthorizeRefused("This application is not registered here.")
    redirect_uri = params.text("redirect_uri") or app.redirect_uris[0]
    if redirect_uri not in app.redirect_uris:
        raise AuthorizeRefused("The redirect URI is not one this application registered.")
    if params.text("response_type") != "code":
        raise AuthorizeRefused("Only the authorization-code flow (response_type=code) is here.")
    try:
        scopes = parse_scopes(params.text("scope"), default=app.scopes)
    except UnknownScope as unknown:
        raise AuthorizeRefused(f"The application asks for an {unknown}.") from None
    if not within(scopes, app.scopes):
        raise AuthorizeRefused("The application asks for scopes it did not register.")
    challenge = params.text("code_challenge") or None
    method = params.text("code_challenge_method") or "S256"
    if challenge is not None and method not in CHALLENGE_METHODS:
        raise AuthorizeRefused("The code challenge method must be S256.")
    return AuthorizationRequest(app, redirect_uri, scopes, params.text("state"), challenge, method)


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Chirp</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def login_form(
    request: Request, asked: AuthorizationRequest, *, login: str = "", error: str | None = None
) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in {**asked.hidden_fields(), CSRF_FIELD: csrf_token_of(request)}.items()
    )
    scopes = "".join(f"<li><code>{escape(scope)}</code></li>" for scope in sorted(asked.scopes))
    website = (
        f' (<a href="{escape(asked.app.website)}" rel="noopener noreferrer">'
        f"{escape(asked.app.website)}</a>)"
        if asked.app.website and asked.app.website.startswith(("https://", "http://"))
        else ""
    )
    problem = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f"<p><strong>{escape(asked.app.name)}</strong>{website} asks to use your Chirp "
        f"account with these permissions:</p><ul>{scopes}</ul>{problem}"
        f'<form method="post" action="/oauth/authorize">{hidden}'
        f'<label>Handle or email<input type="text" name="login" value="{escape(login)}" '
        f'autocomplete="username" required autofocus></label>'
        f'<label>Password<input type="password" name="password" '
        f'autocomplete="current-password" required></label>'
        f'<button type="submit" name="decision" value="approve">Authorize</button>'
        f'<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>'
        f"</form>"
    )
    answer = page("Authorize an app", body, 401 if error else 200)
    remember_csrf(request, answer)
    return answer


def refused_page(reason: str) -> HTMLResponse:
    return page("Authorization refused", f'<p class="error">{escape(reason)}</p>', 400)


def back_to_app(asked: AuthorizationRequest, **query: str) -> Response:
    if asked.state is not None:
        query["state"] = asked.state
    separator = "&" if "?" in asked.redirect_uri else "?"
    return RedirectResponse(
        asked.redirect_uri + separator + urlencode(query), status_code=302, headers=PAGE_HEADERS
    )


@router.get("/oauth/authorize")
@router.get("/oauth/authorize/")  # toot asks here (a trailing slash)
async def authorize_page(request: Request) -> Response:
    """The log-in-and-approve page an app sends a person to."""
    try:
        asked = await authorization_request(request, await params_of(request))
    except AuthorizeRefused as refused:
        return refused_page(str(refused))
    return login_form(request, asked)


@router.post("/oauth/authorize")
async def authorize(request: Request) -> Response:
    """Approve (log in, then a code for the app) or deny the request the page showed."""
    params = await params_of(request)
    if not csrf_matches(request, params.text(CSRF_FIELD)):
        return page("Authorization refused", "<p>The form expired: go back and reload.</p>", 403)
    try:
        asked = await authorization_request(request, params)
    except AuthorizeRefused as refused:
        return refused_page(str(refused))
    if params.text("decision") == "deny":
        if asked.redirect_uri == OUT_OF_BAND:
            return page("Authorization denied", "<p>You can close this page.</p>")
        return back_to_app(asked, error="access_denied")
    login = (params.text("login") or "").strip()
    use_cases: UseCases = request.app.state.use_cases
    try:
        caller = await use_cases.authenticate(login, params.text("password") or "")
    except WrongCredentials:
        return login_form(request, asked, login=login, error="Wrong handle, email or password.")
    code = await oauth_store(request).issue_code(
        Grant(asked.app.client_id, asked.scopes, caller, 0),
        asked.redirect_uri,
        asked.code_challenge,
        asked.code_challenge_method,
    )
    if asked.redirect_uri == OUT_OF_BAND:
        body = (
            f"<p>Copy this code into <strong>{escape(asked.app.name)}</strong>:</p>"
            f'<p><code id="authorization-code">{escape(code)}</code></p>'
        )
        return page("Authorization code", body)
    return back_to_app(asked, code=code)
