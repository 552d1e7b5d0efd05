"""The Kafka record around an event: key bytes and headers.

Key: the aggregate id (`schemas.catalogue` says which) as ASCII decimal, so every producer
(the API, loaders, tests) hashes the same bytes with Kafka's default murmur2 partitioner and
an aggregate's events stay in one partition, in order. Headers: event type, a unique event
id, occurred-at (Unix ms) and a correlation id tying the event to the request that caused it.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass

HEADER_EVENT_TYPE = "chirp-event-type"
HEADER_EVENT_ID = "chirp-event-id"
HEADER_OCCURRED_AT = "chirp-occurred-at"
HEADER_CORRELATION_ID = "chirp-correlation-id"

Headers = list[tuple[str, bytes]]

CORRELATION_ID: ContextVar[str | None] = ContextVar("chirp_correlation_id", default=None)
"""The correlation id of the work under way: the API sets it per request, the worker per event;
events produced meanwhile carry it, and log lines show it."""


def record_key(aggregate_id: int) -> bytes:
    return str(aggregate_id).encode("ascii")


@dataclass(frozen=True, slots=True)
class Envelope:
    event_type: str
    event_id: str
    occurred_at_ms: int
    correlation_id: str

    @classmethod
    def new(cls, event_type: str, occurred_at_ms: int, correlation_id: str | None) -> Envelope:
        return cls(
            event_type=event_type,
            event_id=uuid.uuid4().hex,
            occurred_at_ms=occurred_at_ms,
            # The id of the work under way wins: the API's is checked (`api.correlation`).
            correlation_id=CORRELATION_ID.get() or correlation_id or uuid.uuid4().hex,
        )

    def headers(self) -> Headers:
        return [
            (HEADER_EVENT_TYPE, self.event_type.encode()),
            (HEADER_EVENT_ID, self.event_id.encode()),
            (HEADER_OCCURRED_AT, str(self.occurred_at_ms).encode()),
            (HEADER_CORRELATION_ID, self.correlation_id.encode()),
        ]
