"""Delivery latency through Mastodon's streams beside `/v1/streams/home`, in one run.

One reader follows one author and listens on three streams at once: `/v1/streams/home`,
Mastodon's `/api/v1/streaming/user` and `/api/v1/streaming/public`; the author posts `count`
tweets at `rate` per second through `/v1`. Reported: the time from each 201 until each stream
delivered the tweet (p50, p95, max), per stream. The three share the hub's one read of the live
feed; the difference is the Mastodon rendering (a Status per event, once per process).

    .venv/bin/python -m tests.perf.mastodon_streams [count] [rate]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.perf.stack import running_stack
from tests.perf.streams import percentile
from tests.support.client import PASSWORD, random_handle

STREAMS = {
    "v1_home": ("/v1/streams/home", "entry", "ready"),
    "mastodon_user": ("/api/v1/streaming/user", "update", None),
    "mastodon_public": ("/api/v1/streaming/public", "update", None),
}


async def account(client: httpx.AsyncClient) -> tuple[str, str]:
    """A registered user's handle and session token."""
    handle = random_handle("m")
    created = await client.post("/v1/users", json={"handle": handle, "password": PASSWORD})
    assert created.status_code == 201, created.text
    for _ in range(100):  # registering then logging in at once works; bounded all the same
        session = await client.post("/v1/sessions", json={"handle": handle, "password": PASSWORD})
        if session.status_code == 200:
            return handle, session.json()["access_token"]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no session for {handle}: {session.text}")


async def listen(
    url: str, stream: str, token: str, arrivals: dict[str, list[float]], ready: asyncio.Event
) -> None:
    """Records when each status arrives on `stream`, by tweet id, until cancelled."""
    path, wanted, ready_event = STREAMS[stream]
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(30, read=None)) as client,
        client.stream("GET", path, headers=headers) as response,
    ):
        assert response.status_code == 200, stream
        event = ""
        async for line in response.aiter_lines():
            if line.startswith(":") and ready_event is None:
                ready.set()  # Mastodon's first comment: subscribed
            elif line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
                if event == ready_event:
                    ready.set()
            elif line.startswith("data:") and event == wanted:
                status = orjson.loads(line.split(":", 1)[1])
                arrivals[status["id"]].append(time.monotonic())


async def measure(url: str, count: int, rate: float) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        _, reader_token = await account(client)
        author, author_token = await account(client)
        followed = await client.put(
            f"/v1/following/{author}", headers={"Authorization": f"Bearer {reader_token}"}
        )
        assert followed.status_code == 204, followed.text
        arrivals: dict[str, dict[str, list[float]]] = {n: defaultdict(list) for n in STREAMS}
        readies = {name: asyncio.Event() for name in STREAMS}
        tasks = [
            asyncio.create_task(listen(url, name, reader_token, arrivals[name], readies[name]))
            for name in STREAMS
        ]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies.values())), 60)
        acked: dict[str, float] = {}
        started = time.monotonic()
        for n in range(count):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            posted = await client.post(
                "/v1/tweets",
                json={"text": f"measured {n}"},
                headers={"Authorization": f"Bearer {author_token}"},
            )
            assert posted.status_code == 201, posted.text
            acked[posted.json()["id"]] = time.monotonic()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(
            any(not got[tweet] for tweet in acked) for got in arrivals.values()
        ):
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    report: dict[str, Any] = {"posts": count, "rate_per_s": rate}
    for name, got in arrivals.items():
        delays = sorted(
            max(0.0, got[tweet][0] - at) * 1000 for tweet, at in acked.items() if got[tweet]
        )
        report[f"{name}_received"] = len(delays)
        report[f"{name}_p50_ms"] = round(percentile(delays, 0.50), 1)
        report[f"{name}_p95_ms"] = round(percentile(delays, 0.95), 1)
        report[f"{name}_max_ms"] = round(delays[-1], 1) if delays else None
    return report


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    with (
        tempfile.TemporaryDirectory(prefix="chirp-mastodon-streams-") as var_dir,
        running_stack(Path(var_dir)) as stack,
    ):
        report = asyncio.run(measure(stack.api.url, count, rate))
    sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    main()
