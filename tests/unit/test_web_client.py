"""The web client's pure parts: CSRF double submit, the session cookie, redirects kept on the
site, refusals as sentences, missing pages as HTML, and the vendored files the pages point at."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

from api.auth import Caller, TokenIssuer
from api.problems import install_problem_handlers
from api.rate_limits import family_of, is_web_page, too_many_requests_page
from api.use_cases.errors import HandleTaken, WrongCredentials
from api.web import install_web_client
from api.web.routes import readable, safe_next
from api.web.session import CSRF_COOKIE, SESSION_COOKIE, csrf_matches, session_caller
from api.web.static_files import STATIC_DIR, STATIC_URL, VENDORED
from domain.errors import DomainError


def request_with(cookies: dict[str, str], headers: dict[str, str] | None = None) -> Request:
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    raw = [(b"cookie", cookie.encode())] if cookie else []
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw})


def test_csrf_needs_the_cookie_and_the_same_value_in_the_form_or_header() -> None:
    token = "t" * 43
    assert csrf_matches(request_with({CSRF_COOKIE: token}), token)
    assert csrf_matches(request_with({CSRF_COOKIE: token}, {"X-CSRF-Token": token}), None)
    assert not csrf_matches(request_with({CSRF_COOKIE: token}), "x" * 43)
    assert not csrf_matches(request_with({CSRF_COOKIE: token}), None)
    assert not csrf_matches(request_with({}), token)  # a forged form has no cookie to match


def test_the_session_cookie_names_the_tokens_caller_and_a_forged_one_nobody() -> None:
    tokens = TokenIssuer("a-secret-long-enough-for-hs256-tests", 60)
    caller = Caller(7, "alice", "Alice")
    assert session_caller(request_with({SESSION_COOKIE: tokens.issue(caller)}), tokens) == caller
    forged = TokenIssuer("another-secret-long-enough-for-hs256", 60).issue(caller)
    assert session_caller(request_with({SESSION_COOKIE: forged}), tokens) is None
    assert session_caller(request_with({}), tokens) is None


def test_redirects_stay_on_the_site() -> None:
    assert safe_next("/tweets/1") == "/tweets/1"
    assert safe_next("//evil.example/x") == "/"
    assert safe_next("https://evil.example/") == "/"
    assert safe_next(None) == "/"


def test_refusals_read_as_sentences_with_their_status() -> None:
    assert readable(WrongCredentials()) == (401, "handle or password is wrong")
    assert readable(HandleTaken("alice")) == (409, "handle 'alice' is taken")
    assert readable(DomainError("text is empty"))[0] == 422


def test_every_vendored_file_the_pages_name_is_in_the_package() -> None:
    for url in VENDORED.values():
        path = STATIC_DIR / url.removeprefix(STATIC_URL + "/")
        assert path.is_file() and path.stat().st_size > 0, url


def test_web_forms_count_like_their_json_routes_and_static_files_not_at_all() -> None:
    assert family_of("POST", "/signup") == "registrations"
    assert family_of("POST", "/login") == "sessions"
    assert family_of("GET", "/") == "default"
    assert family_of("GET", "/static/vendor/htmx-2.0.11.min.js") is None


def test_a_refused_page_is_html_and_a_refused_api_call_problem_json() -> None:
    assert is_web_page("/login") and is_web_page("/@alice")
    assert not is_web_page("/v1/sessions") and not is_web_page("/media/1")
    page = too_many_requests_page("more than 25 requests <in> the window", {"Retry-After": "9"})
    assert page.status_code == 429 and page.media_type == "text/html"
    assert b"&lt;in&gt;" in bytes(page.body) and b"try again in 9 seconds" in bytes(page.body)


def test_a_missing_page_is_an_html_page_and_a_missing_api_path_still_problem_json() -> None:
    app = FastAPI()
    install_problem_handlers(app)
    install_web_client(app)
    http = TestClient(app)
    page = http.get("/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "There is no such page." in page.text
    api = http.get("/v1/no-such-resource")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
