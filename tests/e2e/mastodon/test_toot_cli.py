"""The `toot` command-line client (a Mastodon client nobody here wrote) against Chirp: log in
with the password grant (`login_cli`, the email as the username) and through the browser flow
(`login`: the authorize page, then the code pasted back), post, and read the home timeline.
Each test keeps toot's configuration in a directory of its own (`XDG_CONFIG_HOME`)."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
from mastodon import Mastodon

from infra.app_processes import ApiProcess
from tests.e2e.mastodon.conftest import ALL_SCOPES
from tests.support.client import PASSWORD, ChirpClient, random_handle

TOOT = str(Path(sys.executable).with_name("toot"))
TIMEOUT_S = 60


# A loaded machine answers slowly (argon2, a registration waited for): more than httpx's 5 s.
HTTP_TIMEOUT_S = 30.0


def toot_env(config_home: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TOOT_") and name != "XDG_CONFIG_HOME"
    }
    return env | {"XDG_CONFIG_HOME": str(config_home), "NO_COLOR": "1", "TERM": "dumb"}


def toot(config_home: Path, *args: str) -> str:
    done = subprocess.run(
        [TOOT, "--no-color", *args],
        env=toot_env(config_home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"toot {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def registered_with_email(base_url: str, app: tuple[str, str]) -> tuple[str, str]:
    """A new account registered through the Mastodon API: its handle and email."""
    handle = random_handle("t")
    email = f"{handle}.{secrets.token_hex(3)}@example.org"
    Mastodon(*app, api_base_url=base_url).create_account(
        handle, PASSWORD, email, agreement=True, scopes=ALL_SCOPES
    )
    return handle, email


def test_toot_logs_in_with_the_email_posts_and_reads_its_home_timeline(
    api_server: ApiProcess, client: ChirpClient, mastodon_app: tuple[str, str], tmp_path: Path
) -> None:
    handle, email = registered_with_email(api_server.url, mastodon_app)

    logged_in = toot(tmp_path, "login_cli", "-i", api_server.url, "-e", email, "-p", PASSWORD)
    assert "Successfully logged in" in logged_in
    assert handle in toot(tmp_path, "whoami")

    text = f"Hello from toot #chirp {secrets.token_hex(4)}"
    posted = json.loads(toot(tmp_path, "post", "--json", text))
    assert posted["content"].startswith("<p>Hello from toot")
    assert posted["account"]["username"] == handle

    home = json.loads(toot(tmp_path, "timelines", "home", "--json"))
    assert posted["id"] in [status["id"] for status in home]
    assert client.tweet_json(posted["id"])["text"] == text  # the same tweet on `/v1`


def test_toot_logs_in_through_the_authorize_page_with_the_code(
    api_server: ApiProcess, client: ChirpClient, mastodon_app: tuple[str, str], tmp_path: Path
) -> None:
    handle, email = registered_with_email(api_server.url, mastodon_app)
    login = subprocess.Popen(
        [TOOT, "--no-color", "login", "-i", api_server.url],
        env=toot_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert login.stdout is not None and login.stdin is not None
        url = ""
        while not url.startswith("http"):
            line = login.stdout.readline()
            assert line, "toot ended before showing the log-in URL"
            url = line.strip()
        with httpx.Client(timeout=HTTP_TIMEOUT_S) as browser:
            page = browser.get(url, follow_redirects=True)
            assert page.status_code == 200, page.text
            fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
            shown = browser.post(
                f"{api_server.url}/oauth/authorize",
                data=dict(fields) | {"login": email, "password": PASSWORD, "decision": "approve"},
            )
        code = re.search(r'<code id="authorization-code">([^<]+)</code>', shown.text)
        assert code is not None, shown.text
        out, err = login.communicate(f"n\n{code.group(1)}\n", timeout=TIMEOUT_S)
    finally:
        if login.poll() is None:
            login.kill()
    assert login.returncode == 0, f"{out}\n{err}"
    assert "Successfully logged in" in out
    assert handle in toot(tmp_path, "whoami")
