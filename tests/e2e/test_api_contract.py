"""The OpenAPI document is the contract: a schema-driven fuzzer finds nothing against it.

Schemathesis reads `/openapi.json` from the running test API and sends generated requests
(explicit examples, boundary and invalid values, random data, and chains of calls that
follow the ids the API hands out) to every operation, as a registered user with a real
bearer token. Every check it has must pass: no 5xx; only documented statuses, content types
and headers; bodies that match their schemas; schema-valid requests accepted; invalid ones
refused; `Allow` on 405 naming exactly the documented methods.

At most `MAX_EXAMPLES` random examples per operation, besides the boundary cases and call
chains (1,698 requests in all over the 21 operations), keep the fuzzer's run near 40 s, the
whole test near a minute, on two cores. The seed is fixed,
so a run is repeatable; change it to explore further.

`Chirp-After` goes out as one fixed token naming no topic of ours (so no read waits for it):
schemathesis 4.32 seeds an optional header that has a `pattern` with a value that does not
match it and still counts the request as schema-valid. Malformed tokens are covered by
`test_bad_input.py`.

A valid `Idempotency-Key` the fuzzer generates is replaced by a fresh one per request
(`HOOKS`): the fuzzer reuses values such as `0` across unrelated call chains, and the same key
with the same body is, by that header's meaning, the same request, answered with the first
response, so a chain would "create" a list an earlier chain had already deleted. Keys reused
on purpose are covered by `test_idempotency_keys.py`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from infra.app_processes import ApiProcess
from tests.support.client import ChirpClient

MAX_EXAMPLES = 40
SEED = 20261129
RUN_TIMEOUT_S = 540
UNRELATED_POSITION = "fuzz.elsewhere:0:0"
# An upload's schema can say "a file", not "an image the decoder accepts": schema-valid bytes
# that are no image or video are refused by design (415, 422), never with a 5xx. Likewise a
# tweet's `media_ids` must name the author's own uploads, which the fuzzer cannot make: 422.
# A read marker shaped like a time may still name no date (month 13) or the future: 422. An
# erasure needs the account's password, which the fuzzer does not know: 403. A search query's
# syntax (quotes in pairs, a valid `from:` handle, something to match) is more than a schema
# can say: 422. Following yourself is schema-valid but refused: 422.
HOOKS = """
import uuid

import schemathesis


@schemathesis.hook
def map_headers(context, headers):
    key = (headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and 1 <= len(key) <= 255:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    return headers
"""
CONFIG = """
[[operations]]
include-name = "POST /v1/media"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "413", "415", "422"]

[[operations]]
include-name = "POST /v1/tweets"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "404", "409", "422", "503"]

[[operations]]
include-name = "POST /v1/notifications/read"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "409", "422", "503"]

[[operations]]
include-name = "PUT /v1/following/{handle}"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "404", "422", "503"]

[[operations]]
include-name = "DELETE /v1/following/{handle}"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "404", "422", "503"]

[[operations]]
include-name = "GET /v1/search/tweets"
checks.positive_data_acceptance.expected-statuses = ["2xx", "422"]

[[operations]]
include-name = "DELETE /v1/users/me"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "422", "503"]
"""


# The fuzzer's summary lines that say how much it tried: operations selected and tested, test
# cases generated, and its verdict.
SUMMARY = re.compile(r"Selected:|Tested:|\bgenerated\b|No issues found")


@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
def test_the_api_keeps_its_openapi_contract(
    api_server: ApiProcess,
    client: ChirpClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    account = client.register()
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{api_server.url}/openapi.json",
        "--checks=all",
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        "--generation-database=none",
        "--workers=1",
        "--request-timeout=10",
        # An event stream never ends: its behaviour is tested in test_streams.py.
        "--exclude-path=/v1/streams/home",
        "--no-color",
        f"--header=Authorization: Bearer {account.token}",
        f"--header=Chirp-After: {UNRELATED_POSITION}",
    ]
    # Its working directory is a temporary one: the fuzzer leaves its cache there, and finds
    # its configuration there.
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    (tmp_path / "fuzz_hooks.py").write_text(HOOKS)
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "fuzz_hooks", "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        command,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-30_000:] + done.stderr[-5_000:]
    summary = [line.strip(" =") for line in done.stdout.splitlines() if SUMMARY.search(line)]
    with capsys.disabled():  # how much it tried, in the test output
        print("\n[contract fuzzer] " + "; ".join(summary))


def test_a_body_that_is_not_json_is_an_unsupported_media_type(client: ChirpClient) -> None:
    account = client.register()
    headers = {**account.auth, "Content-Type": "text/plain"}
    response = client.http.post("/v1/tweets", content=b'{"text": "hi"}', headers=headers)
    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_405_names_every_method_of_its_path(client: ChirpClient) -> None:
    response = client.http.request("PATCH", "/v1/tweets/123456789")
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == "DELETE, GET"
    assert response.headers["content-type"] == "application/problem+json"
