"""Accounts through Mastodon.py: registration by an app (then log-in with the email), lookup,
follows and relationships, followers and following pages, profile changes with an avatar, the
authorization-code grant through the log-in page (with PKCE), erasure revoking OAuth tokens,
and rate limits in Mastodon's form."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
import secrets
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from mastodon import Mastodon, MastodonIllegalArgumentError, MastodonNotFoundError
from PIL import Image
from redis import Redis

from infra.app_processes import ApiProcess
from infra.settings import Settings
from tests.e2e.mastodon.conftest import ALL_SCOPES, LogIn
from tests.support.client import PASSWORD, ChirpClient, random_handle
from tests.support.stacks import another_api
from tests.support.waiting import wait_for

OOB = "urn:ietf:wg:oauth:2.0:oob"
CALLBACK = "http://127.0.0.1:9/callback"


# A loaded machine answers slowly (argon2, a registration waited for): more than httpx's 5 s.
HTTP_TIMEOUT_S = 30.0
http_get = partial(httpx.get, timeout=HTTP_TIMEOUT_S)
http_post = partial(httpx.post, timeout=HTTP_TIMEOUT_S)
http_patch = partial(httpx.patch, timeout=HTTP_TIMEOUT_S)
http_request = partial(httpx.request, timeout=HTTP_TIMEOUT_S)


def an_email(handle: str) -> str:
    return f"{handle}.{secrets.token_hex(3)}@Example.org"


def app_token(base_url: str, app: tuple[str, str]) -> str:
    answer = http_post(
        f"{base_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app[0],
            "client_secret": app[1],
            "scope": "read write follow",
        },
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def test_an_app_registers_an_account_that_then_logs_in_with_its_email(
    api_server: ApiProcess, client: ChirpClient, mastodon_app: tuple[str, str]
) -> None:
    handle = random_handle("m")
    email = an_email(handle)
    api = Mastodon(*mastodon_app, api_base_url=api_server.url)

    api.create_account(handle, PASSWORD, email, agreement=True, scopes=ALL_SCOPES)
    me = api.account_verify_credentials()
    assert me.username == handle and me.acct == handle

    by_email = Mastodon(*mastodon_app, api_base_url=api_server.url)
    by_email.log_in(email.upper(), PASSWORD, scopes=ALL_SCOPES, allow_http=True)
    assert by_email.account_verify_credentials().id == me.id
    # The email is private: no view of the account, on either surface, shows it.
    for path in (f"/api/v1/accounts/{me.id}", f"/v1/users/{handle}"):
        shown = http_get(f"{api_server.url}{path}")
        assert shown.status_code == 200
        assert email.lower() not in shown.text.lower()
    verified = http_get(
        f"{api_server.url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {by_email.access_token}"},
    )
    assert email.lower() not in verified.text.lower()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": None}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"username": "has space"}, "username"),
        ({"password": "short"}, "password"),
        ({"agreement": None}, "agreement"),
    ],
)
def test_a_bad_registration_is_422_in_mastodons_form_and_produces_nothing(
    api_server: ApiProcess,
    client: ChirpClient,
    mastodon_app: tuple[str, str],
    change: dict[str, str | None],
    field: str,
) -> None:
    handle = random_handle("m")
    form = {
        "username": handle,
        "email": an_email(handle),
        "password": PASSWORD,
        "agreement": "true",
        "locale": "en",
    } | change
    answer = http_post(
        f"{api_server.url}/api/v1/accounts",
        data={name: value for name, value in form.items() if value is not None},
        headers={"Authorization": f"Bearer {app_token(api_server.url, mastodon_app)}"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"].startswith("Validation failed")
    assert field in answer.json()["details"]
    assert client.get(f"/v1/users/{handle}").status_code == 404


def test_a_taken_username_or_email_is_refused_and_registering_needs_an_app_token(
    api_server: ApiProcess, client: ChirpClient, mastodon_app: tuple[str, str]
) -> None:
    handle = random_handle("m")
    email = an_email(handle)
    Mastodon(*mastodon_app, api_base_url=api_server.url).create_account(
        handle, PASSWORD, email, agreement=True, scopes=ALL_SCOPES
    )
    token = {"Authorization": f"Bearer {app_token(api_server.url, mastodon_app)}"}
    other = random_handle("m")
    form = {"password": PASSWORD, "agreement": "1"}
    taken_name = http_post(
        f"{api_server.url}/api/v1/accounts",
        data=form | {"username": handle.upper(), "email": an_email(other)},
        headers=token,
    )
    taken_email = http_post(
        f"{api_server.url}/api/v1/accounts",
        data=form | {"username": other, "email": email.lower()},
        headers=token,
    )
    no_token = http_post(
        f"{api_server.url}/api/v1/accounts",
        data=form | {"username": other, "email": an_email(other)},
    )
    assert taken_name.status_code == 422
    assert taken_name.json()["details"]["username"][0]["error"] == "ERR_TAKEN"
    assert taken_email.status_code == 422
    assert taken_email.json()["details"]["email"][0]["error"] == "ERR_TAKEN"
    assert no_token.status_code == 401
    assert "error" in no_token.json()
    assert client.get(f"/v1/users/{other}").status_code == 404


def test_accounts_are_found_by_id_and_by_handle(client: ChirpClient, log_in: LogIn) -> None:
    ada = client.register(display_name="Ada Lovelace")
    api = log_in(client.register())

    by_handle = api.account_lookup(f"@{ada.handle}")
    by_id = api.account(ada.user_id)

    assert by_handle.id == by_id.id and str(by_id.id) == ada.user_id
    assert by_id.display_name == "Ada Lovelace" and by_id.acct == ada.handle
    assert by_id.avatar.startswith("http")
    with pytest.raises(MastodonNotFoundError):
        api.account_lookup(random_handle("nobody"))
    with pytest.raises(MastodonNotFoundError):
        api.account(7)


def test_follow_and_unfollow_answer_the_relationship(client: ChirpClient, log_in: LogIn) -> None:
    ada, bob = client.register(), client.register()
    api = log_in(ada)

    followed = api.account_follow(bob.user_id)
    assert followed.following is True and followed.followed_by is False
    [seen] = api.account_relationships([bob.user_id])
    assert seen.following is True
    assert api.account(bob.user_id).followers_count == 1  # the caller's own write is waited for

    unfollowed = api.account_unfollow(bob.user_id)
    assert unfollowed.following is False
    [seen] = api.account_relationships([bob.user_id])
    assert seen.following is False
    assert api.account_following(ada.user_id) == []


def test_followers_and_following_come_in_pages_linked_by_max_id(
    client: ChirpClient, log_in: LogIn
) -> None:
    fan = client.register()
    stars = [client.register() for _ in range(3)]
    api = log_in(fan)
    for star in stars:
        api.account_follow(star.user_id)

    first = api.account_following(fan.user_id, limit=2)
    second = api.fetch_next(first)
    assert len(first) == 2 and second is not None and len(second) == 1
    assert {str(account.id) for account in first + second} == {s.user_id for s in stars}
    assert api.fetch_next(second) is None
    followers = api.account_followers(stars[0].user_id)
    assert [str(account.id) for account in followers] == [fan.user_id]


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(out, format="PNG")
    return out.getvalue()


def test_update_credentials_changes_the_name_the_note_and_the_avatar(
    api_server: ApiProcess, client: ChirpClient, log_in: LogIn, tmp_path: Path
) -> None:
    account = client.register()
    api = log_in(account)
    avatar = tmp_path / "avatar.png"
    avatar.write_bytes(png((200, 30, 30)))

    updated = api.account_update_credentials(
        display_name="Grace Hopper", note="Compilers <3\nand COBOL", avatar=avatar
    )

    assert updated.display_name == "Grace Hopper"
    assert updated.note == "<p>Compilers &lt;3<br />and COBOL</p>"
    assert updated.source.note == "Compilers <3\nand COBOL"
    assert re.search(r"/media/\d+$", updated.avatar), updated.avatar
    image = http_get(updated.avatar)
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/")
    seen_by_other = log_in(client.register()).account(account.user_id)
    assert (seen_by_other.display_name, seen_by_other.avatar) == ("Grace Hopper", updated.avatar)
    # Searching by the new name finds the account (the index re-indexed it).
    wait_for(
        lambda: (
            account.user_id
            in [user["id"] for user in client.get("/v1/search/users?q=hopper").json()["data"]]
        ),
        timeout_s=10,
        what="the new display name in the user search",
    )

    refused = http_patch(
        f"{api_server.url}/api/v1/accounts/update_credentials",
        data={"display_name": "x" * 80},
        headers={"Authorization": f"Bearer {api.access_token}"},
    )
    assert refused.status_code == 422 and "error" in refused.json()
    assert api.account_verify_credentials().display_name == "Grace Hopper"


# --- The authorization-code grant through the log-in page ---------------------------------


def fill_in(page: httpx.Response) -> dict[str, str]:
    """The hidden fields of the page's form (the request, and the CSRF token)."""
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
    return {name: html.unescape(value) for name, value in fields}


def test_the_code_grant_logs_in_through_the_page_and_mastodon_py_redeems_the_code(
    api_server: ApiProcess, client: ChirpClient
) -> None:
    handle = random_handle("m")
    email = an_email(handle)
    client_id, client_secret = Mastodon.create_app(
        "code-grant", scopes=["read", "write"], redirect_uris=CALLBACK, api_base_url=api_server.url
    )
    api = Mastodon(client_id, client_secret, api_base_url=api_server.url)
    api.create_account(handle, PASSWORD, email, agreement=True, scopes=["read", "write"])
    api = Mastodon(client_id, client_secret, api_base_url=api_server.url)
    url = api.auth_request_url(
        redirect_uris=CALLBACK, scopes=["read"], state="s-42", allow_http=True
    )

    with httpx.Client(timeout=HTTP_TIMEOUT_S) as browser:
        page = browser.get(url)
        assert page.status_code == 200 and "code-grant" in page.text
        assert page.headers["x-frame-options"] == "DENY"
        form = fill_in(page)
        wrong = browser.post(
            f"{api_server.url}/oauth/authorize",
            data=form | {"login": handle, "password": "wrong password", "decision": "approve"},
        )
        assert wrong.status_code == 401 and "Wrong handle" in wrong.text
        approved = browser.post(
            f"{api_server.url}/oauth/authorize",
            data=form | {"login": email, "password": PASSWORD, "decision": "approve"},
        )
        forged = http_post(
            f"{api_server.url}/oauth/authorize",
            data=form | {"login": email, "password": PASSWORD, "decision": "approve"},
        )

    assert forged.status_code == 403  # no CSRF cookie: a cross-site post
    assert approved.status_code == 302
    location = urlparse(approved.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["s-42"]
    api.log_in(code=query["code"][0], redirect_uri=CALLBACK, scopes=["read"], allow_http=True)
    assert api.account_verify_credentials().username == handle
    with pytest.raises(MastodonIllegalArgumentError):  # a code is redeemed once
        Mastodon(client_id, client_secret, api_base_url=api_server.url).log_in(
            code=query["code"][0], redirect_uri=CALLBACK, scopes=["read"], allow_http=True
        )


def code_from_oob_page(base_url: str, url: str, login: str) -> str:
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text
        shown = browser.post(
            f"{base_url}/oauth/authorize",
            data=fill_in(page) | {"login": login, "password": PASSWORD, "decision": "approve"},
        )
    assert shown.status_code == 200, shown.text
    found = re.search(r'<code id="authorization-code">([^<]+)</code>', shown.text)
    assert found is not None
    return found.group(1)


def test_the_code_grant_with_pkce_needs_the_verifier(
    api_server: ApiProcess, client: ChirpClient, mastodon_app: tuple[str, str]
) -> None:
    account = client.register()
    client_id, client_secret = mastodon_app
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": OOB,
        "scope": "read",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    url = f"{api_server.url}/oauth/authorize?{urlencode(query)}"

    def redeem(code: str, code_verifier: str) -> httpx.Response:
        return http_post(
            f"{api_server.url}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": OOB,
                "client_id": client_id,
                "client_secret": client_secret,
                "code_verifier": code_verifier,
            },
        )

    refused = redeem(code_from_oob_page(api_server.url, url, account.handle), "not-the-verifier")
    granted = redeem(code_from_oob_page(api_server.url, url, account.handle), verifier)

    assert refused.status_code == 400 and refused.json() == {"error": "invalid_grant"}
    assert granted.status_code == 200, granted.text
    assert granted.json()["scope"] == "read"
    api = Mastodon(access_token=granted.json()["access_token"], api_base_url=api_server.url)
    assert str(api.account_verify_credentials().id) == account.user_id
    plain = http_get(url.replace("S256", "plain"))
    assert plain.status_code == 400  # only S256 is accepted


# --- Erasure and rate limits -----------------------------------------------------------------


def test_erasure_revokes_the_accounts_oauth_tokens(
    api_server: ApiProcess, client: ChirpClient, log_in: LogIn, redis_client: Redis
) -> None:
    account = client.register()
    api = log_in(account)
    api.account_verify_credentials()
    grants_key = f"chirp:oauth:user-tokens:{account.user_id}"
    assert redis_client.scard(grants_key) == 1

    erased = http_request(
        "DELETE",
        f"{api_server.url}/v1/users/me",
        json={"password": PASSWORD},
        headers=account.auth,
    )

    assert erased.status_code == 202, erased.text
    assert not redis_client.exists(grants_key)
    answer = http_get(
        f"{api_server.url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {api.access_token}"},
    )
    assert answer.status_code == 401


TIGHT_DEFAULT = 4


@pytest.fixture(scope="module")
def tight_api(test_settings: Settings, api_server: ApiProcess) -> Iterator[ApiProcess]:
    with another_api(
        test_settings, "mastodon-limits", rate_limit_default=f"{TIGHT_DEFAULT}/minute"
    ) as process:
        yield process


def test_rate_limits_take_mastodons_form_and_count_oauth_users_apart(
    client: ChirpClient, tight_api: ApiProcess, mastodon_app: tuple[str, str]
) -> None:
    address = {"X-Forwarded-For": f"10.9.{secrets.randbelow(250)}.{secrets.randbelow(250)}"}
    tokens = []
    for _ in range(2):
        granted = http_post(
            f"{tight_api.url}/oauth/token",
            data={
                "grant_type": "password",
                "client_id": mastodon_app[0],
                "client_secret": mastodon_app[1],
                "username": client.register().handle,
                "password": PASSWORD,
                "scope": "read",
            },
            headers=address,
        )
        assert granted.status_code == 200, granted.text
        tokens.append({"Authorization": f"Bearer {granted.json()['access_token']}", **address})
    path = f"{tight_api.url}/api/v1/accounts/verify_credentials"

    answers = [http_get(path, headers=tokens[0]) for _ in range(TIGHT_DEFAULT + 1)]

    assert [a.status_code for a in answers] == [200] * TIGHT_DEFAULT + [429]
    assert answers[0].headers["X-RateLimit-Remaining"] == str(TIGHT_DEFAULT - 1)
    reset = answers[0].headers["X-RateLimit-Reset"]
    assert datetime.fromisoformat(reset.replace("Z", "+00:00")).year >= 2024
    assert answers[-1].json() == {"error": "Too many requests"}
    assert int(answers[-1].headers["Retry-After"]) >= 1
    # The other user behind the same address has a window of its own, and so has the address.
    assert http_get(path, headers=tokens[1]).status_code == 200
    anonymous = http_get(f"{tight_api.url}/v1/trends", headers=address)
    assert anonymous.status_code == 200
    assert anonymous.headers["X-RateLimit-Reset"].isdigit()  # `/v1` keeps Unix seconds
