"""The web client in headless Chromium (Debian's package, driven by Playwright) against the
running stack: two people sign up in two browsers, one follows the other, a post arrives live
in the follower's home timeline, a like and a reply work, search finds the post and the author
sees the notification; the API documentation renders with every request kept on the machine.
Screenshots of a failure go under var/e2e-screenshots/."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from PIL import Image

from infra.app_processes import ApiProcess
from tests.support.client import PASSWORD, ChirpClient, random_handle
from tests.support.waiting import wait_for

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
Browser = playwright_api.Browser
Page = playwright_api.Page

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path("var/e2e-screenshots")
HOME_SCREENSHOT = SCREENSHOTS / "home-timeline.png"  # the one in docs/ is a copy
WAIT_MS = 30_000  # bounded waits: a post crosses Kafka, the worker and the live feed
# Name resolution fails for every host but the loopback: the pages must work offline.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
# ReDoc's "API docs by Redocly" badge is an image from its CDN that cannot be switched off; the
# page renders fully without it.
BADGE = "https://cdn.redoc.ly/redoc/logo-mini.svg"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (infra/bootstrap.sh installs it)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    expect.set_options(timeout=WAIT_MS)
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", OFFLINE], headless=True
        )
        yield launched
        launched.close()


@contextmanager
def screenshots_on_failure(name: str, **pages: Page) -> Iterator[None]:
    try:
        yield
    except BaseException:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for who, page in pages.items():
            try:
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{who}.png"), full_page=True)
            except playwright_api.Error as error:  # the test's own failure matters more
                print(f"no screenshot of {who}: {error}")
        raise


def offline_page(browser: Browser, base_url: str, **options: object) -> tuple[Page, list[str]]:
    """A page in its own context (its own cookies), and the list of the requests it makes to
    anywhere but the API under test (the browser cannot resolve any other host)."""
    context = browser.new_context(base_url=base_url, **options)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    outside: list[str] = []

    def note(request: playwright_api.Request) -> None:
        if request.url.startswith("http") and not request.url.startswith(base_url):
            outside.append(request.url)

    context.on("request", note)
    return context.new_page(), outside


def sign_up(page: Page, handle: str, display_name: str) -> None:
    page.goto("/signup")
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Display name (optional)").fill(display_name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Home")).to_be_visible()


def test_two_people_follow_post_live_like_reply_search_and_notify(
    browser: Browser, client: ChirpClient, api_server: ApiProcess, tmp_path: Path
) -> None:
    author, author_outside = offline_page(
        browser, api_server.url, viewport={"width": 1280, "height": 900}
    )
    reader, reader_outside = offline_page(
        browser,
        api_server.url,
        viewport={"width": 390, "height": 844},  # a phone
    )
    alice, bob = random_handle("al"), random_handle("bo")
    word = "zq" + secrets.token_hex(5)
    with screenshots_on_failure("follow-post-live", author=author, reader=reader):
        sign_up(author, alice, "Alice")
        sign_up(reader, bob, "Bob")

        # The session is an HttpOnly, SameSite cookie: page scripts cannot read it.
        cookies = {c["name"]: c for c in reader.context.cookies()}
        assert (
            cookies["chirp_session"]["httpOnly"] and cookies["chirp_session"]["sameSite"] == "Lax"
        )
        assert "chirp_session" not in reader.evaluate("document.cookie")

        reader.goto(f"/@{alice}")
        reader.get_by_role("button", name="Follow").click()
        expect(reader.get_by_role("button", name="Unfollow")).to_be_visible()
        expect(reader.locator("[data-count=followers]")).to_have_text("1")

        reader.goto("/")
        expect(reader.locator("#timeline[data-live-ready=true]")).to_be_attached()

        # The counter counts as the server does: NFC code points (é typed as e + U+0301 is one).
        text = f"Hello #{word} from Alice, cafe\u0301"
        author.get_by_label("What's happening?").fill(text)
        expect(author.locator("#compose-count")).to_have_text(
            f"{280 - len(text) + 1} characters left"
        )
        author.get_by_text("Add an image").click()
        picture = tmp_path / "square.png"
        Image.new("RGB", (64, 48), "red").save(picture)
        author.get_by_label("Image", exact=True).set_input_files(picture)
        author.get_by_label("Image description (alt text)").fill("A red square")
        author.get_by_role("button", name="Post").click()
        own = author.locator("#timeline li.tweet", has_text=word)  # one's own posts are at home
        expect(own.get_by_role("img", name="A red square")).to_be_visible()

        # Live: no reload on the reader's side.
        post = reader.locator("li.tweet", has_text=word)
        expect(post).to_be_visible()
        expect(post).to_have_class(re.compile(r"\bnew\b"))

        # Keyboard only: focus the Like button and press Enter.
        post.get_by_role("button", name=re.compile(r"^Like")).focus()
        reader.keyboard.press("Enter")
        liked = reader.locator("li.tweet", has_text=word)
        expect(liked.locator("[data-likes]")).to_have_text("1")
        expect(liked.get_by_role("status")).to_have_text("Liked")

        liked.get_by_role("link", name=re.compile(r"^Reply")).click()
        reader.get_by_label("Your reply").fill(f"Welcome, @{alice}!")
        reader.get_by_role("button", name="Reply", exact=True).click()
        replies = reader.get_by_role("list", name="Replies")
        expect(replies).to_contain_text(f"Welcome, @{alice}!")
        expect(reader.get_by_role("list", name="Post", exact=True)).to_contain_text("Reply 1")

        author.goto(f"/search?q={word}")
        expect(author.get_by_role("list", name="Posts found")).to_contain_text(word)

        def notified() -> bool:
            author.goto("/notifications")
            return author.locator("li.notification", has_text=bob).count() >= 2

        wait_for(notified, timeout_s=WAIT_MS / 1000, what="the like and reply notifications")
        like = author.locator("li.notification[data-type=like]")
        expect(like).to_contain_text(f"@{bob} liked your post")
        expect(author.locator("#unread-count")).to_be_visible()
        author.get_by_role("button", name="Mark all as read").click()
        expect(author.locator("#unread-count")).to_have_count(0)

        # Who to follow for the reader now lists nobody they follow; images all have alt text.
        reader.goto("/suggestions")
        expect(reader.get_by_role("heading", name="Who to follow")).to_be_visible()
        assert reader.locator("img:not([alt])").count() == 0

        reader.set_viewport_size({"width": 1100, "height": 800})
        reader.goto("/")
        expect(reader.locator("li.tweet", has_text=word)).to_be_visible()
        HOME_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        reader.screenshot(path=str(HOME_SCREENSHOT))
        assert author_outside == [] and reader_outside == []


def test_api_docs_render_offline(browser: Browser, api_server: ApiProcess) -> None:
    page, outside = offline_page(browser, api_server.url)
    with screenshots_on_failure("docs", page=page):
        page.goto("/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Chirp")
        expect(page.locator(".opblock-tag-section").first).to_be_visible()
        page.goto("/redoc")
        expect(page.locator("redoc h1").first).to_contain_text("Chirp")
        expect(page.get_by_text("Register an account").first).to_be_attached()
        assert [url for url in outside if url != BADGE] == []


def test_errors_are_readable_and_posts_need_the_csrf_token(
    browser: Browser, api_server: ApiProcess
) -> None:
    page, _ = offline_page(browser, api_server.url, viewport={"width": 390, "height": 844})
    with screenshots_on_failure("errors", page=page):
        page.goto("/login")
        page.get_by_label("Handle").fill(random_handle("nobody"))
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_have_text("handle or password is wrong")
        assert "{" not in page.get_by_role("alert").inner_text()

    # A form post without the token (what a forged cross-site form would send) is refused.
    with httpx.Client(base_url=api_server.url) as http:
        login_form = http.get("/login")
        assert login_form.status_code == 200
        answer = http.post("/login", data={"handle": "someone", "password": "x" * 12})
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("text/html")
        assert "reload the page" in answer.text
        # The live stream takes the session cookie, and still Bearer; without either, 401.
        assert http.get("/v1/streams/home").status_code == 401
