"""Apps, OAuth tokens and scopes, and the instance documents, driven by Mastodon.py."""

from __future__ import annotations

import httpx
import pytest
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonIllegalArgumentError,
    MastodonUnauthorizedError,
)

from infra.app_processes import ApiProcess
from tests.e2e.mastodon.conftest import LogIn
from tests.support.client import ChirpClient


def test_an_app_logs_a_user_in_and_the_token_names_them(client: ChirpClient, log_in: LogIn) -> None:
    account = client.register()
    api = log_in(account)
    me = api.account_verify_credentials()
    assert me.username == account.handle
    assert str(me.id) == account.user_id


def test_a_wrong_password_gets_no_token(
    api_server: ApiProcess, client: ChirpClient, mastodon_app: tuple[str, str]
) -> None:
    account = client.register()
    api = Mastodon(*mastodon_app, api_base_url=api_server.url)
    with pytest.raises(MastodonIllegalArgumentError):
        api.log_in(account.handle, "not-the-password", allow_http=True)


def test_a_revoked_token_names_nobody(
    api_server: ApiProcess, client: ChirpClient, mastodon_app: tuple[str, str], log_in: LogIn
) -> None:
    api = log_in(client.register())
    api.account_verify_credentials()
    token = api.access_token
    api.revoke_access_token(allow_http=True)
    revoked = Mastodon(access_token=token, api_base_url=api_server.url)
    with pytest.raises(MastodonUnauthorizedError):
        revoked.account_verify_credentials()


def test_a_token_without_the_scope_is_refused_with_403(client: ChirpClient, log_in: LogIn) -> None:
    api = log_in(client.register(), scopes=["write"])
    with pytest.raises(MastodonAPIError) as refused:
        api.account_verify_credentials()
    assert refused.value.args[1] == 403


def test_the_instance_documents_answer_what_clients_check(api_server: ApiProcess) -> None:
    api = Mastodon(api_base_url=api_server.url)
    assert api.retrieve_mastodon_version().startswith("4.")
    assert api.instance_v2().configuration.statuses.max_characters == 280
    assert api.custom_emojis() == []
    links = httpx.get(f"{api_server.url}/.well-known/nodeinfo").json()["links"]
    nodeinfo = httpx.get(links[0]["href"]).json()
    assert nodeinfo["software"]["name"] == "chirp"


def test_errors_take_mastodons_form(api_server: ApiProcess) -> None:
    unknown = httpx.get(f"{api_server.url}/api/v1/no-such-thing")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "Record not found"}
    no_token = httpx.get(f"{api_server.url}/api/v1/accounts/verify_credentials")
    assert no_token.status_code == 401
    assert "error" in no_token.json()
    bad_grant = httpx.post(f"{api_server.url}/oauth/token", data={"grant_type": "magic"})
    assert bad_grant.status_code == 400
    assert bad_grant.json() == {"error": "unsupported_grant_type"}
    # Refusals of the middleware in front of every route take the same form on these paths.
    url = f"{api_server.url}/api/v1/statuses"
    headers = {"Idempotency-Key": "mastodon-form-check"}
    httpx.post(url, data={"status": "first"}, headers=headers)
    reused = httpx.post(url, data={"status": "another body"}, headers=headers)
    assert reused.status_code == 409
    assert set(reused.json()) == {"error"}
    too_large = httpx.post(url, content=b"x" * (8 * 1024 * 1024))
    assert too_large.status_code == 413
    assert set(too_large.json()) == {"error"}
