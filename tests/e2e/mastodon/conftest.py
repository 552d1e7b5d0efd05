"""A Mastodon client library (Mastodon.py) pointed at the session's API process: an app
registered once, and users logged in through the password grant."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from mastodon import Mastodon

from infra.app_processes import ApiProcess
from tests.support.client import PASSWORD, Account, ChirpClient

ALL_SCOPES = ["read", "write", "follow", "push"]


@pytest.fixture(scope="session")
def mastodon_app(api_server: ApiProcess) -> tuple[str, str]:
    """Client id and secret of an app registered through `POST /api/v1/apps`."""
    client_id, client_secret = Mastodon.create_app(
        "chirp-tests", scopes=ALL_SCOPES, api_base_url=api_server.url
    )
    return client_id, client_secret


LogIn = Callable[[Account], Mastodon]


@pytest.fixture
def log_in(api_server: ApiProcess, mastodon_app: tuple[str, str]) -> LogIn:
    """A Mastodon.py client acting for an account (registered on `/v1`), logged in with the
    password grant."""

    def logged_in(account: Account, scopes: list[str] = ALL_SCOPES) -> Mastodon:
        client_id, client_secret = mastodon_app
        api = Mastodon(
            client_id=client_id, client_secret=client_secret, api_base_url=api_server.url
        )
        api.log_in(account.handle, PASSWORD, scopes=scopes, allow_http=True)
        return api

    return logged_in


@pytest.fixture
def masto_user(client: ChirpClient, log_in: LogIn) -> tuple[Account, Mastodon]:
    """A fresh account and a Mastodon.py client logged in as it."""
    account = client.register()
    return account, log_in(account)
