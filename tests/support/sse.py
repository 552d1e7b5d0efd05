"""Listening to a live stream from a test: events arrive on a queue read with bounded waits."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from httpx_sse import ServerSentEvent, connect_sse

WAIT_S = 15.0


@dataclass
class Listener:
    """A connected stream: `next()` waits, bounded, for the next event."""

    events: queue.Queue[ServerSentEvent] = field(default_factory=queue.Queue)
    status: int = 0
    connected: threading.Event = field(default_factory=threading.Event)

    def next(self, timeout_s: float = WAIT_S) -> ServerSentEvent:
        return self.events.get(timeout=timeout_s)

    def until(self, event: str, match: Any, timeout_s: float = WAIT_S) -> list[ServerSentEvent]:
        """Events up to and including the first `event` whose data satisfies `match`."""
        seen = []
        while True:
            got = self.next(timeout_s)
            seen.append(got)
            if got.event == event and match(orjson.loads(got.data)):
                return seen


@contextmanager
def listening(
    base_url: str, path: str, headers: dict[str, str], *, timeout_s: float = WAIT_S
) -> Iterator[Listener]:
    """Connects in a thread; leaving the block closes the connection."""
    listener = Listener()
    stop = threading.Event()
    client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(5.0, read=None))

    def read() -> None:
        try:
            with connect_sse(client, "GET", path, headers=headers) as source:
                listener.status = source.response.status_code
                listener.connected.set()
                if source.response.status_code != 200:
                    return
                for event in source.iter_sse():
                    if stop.is_set():
                        return
                    listener.events.put(event)
        except httpx.HTTPError:
            pass  # closed under it on the way out
        finally:
            listener.connected.set()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    assert listener.connected.wait(timeout_s), "the stream did not answer"
    try:
        yield listener
    finally:
        stop.set()
        client.close()
        thread.join(timeout_s)
