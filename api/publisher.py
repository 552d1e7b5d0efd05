"""Turns domain events into Kafka records and waits for the broker's acknowledgement.

The wait is bounded: an idempotent producer retries a record until the broker takes it, with
no delivery timeout of its own, so a broker that stops answering would hold every write open.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError

from domain.clock import now_ms
from domain.events import Event
from schemas import EventCodec, spec_of
from schemas.envelope import Envelope
from schemas.log import Position

ACK_TIMEOUT_S = 5.0  # then the write answers 503; the record may still reach the log later


class EventPublisher:
    """Produces one event per call with acks=all on an idempotent producer."""

    def __init__(
        self,
        producer: AIOKafkaProducer,
        codec: EventCodec,
        topic_of: Callable[[str], str],
        *,
        ack_timeout_s: float = ACK_TIMEOUT_S,
        on_acknowledged: Callable[[str, float], None] | None = None,
    ) -> None:
        self.producer = producer
        self.codec = codec
        self.topic_of = topic_of  # family -> topic name
        self.ack_timeout_s = ack_timeout_s
        self.on_acknowledged = on_acknowledged  # (topic, seconds until acknowledged)

    async def publish(self, event: Event, *, correlation_id: str | None) -> Position:
        spec = spec_of(event)
        envelope = Envelope.new(spec.schema_name, now_ms(), correlation_id)
        topic = self.topic_of(spec.family)
        send = self.producer.send_and_wait(
            topic,
            value=self.codec.encode(event),
            key=spec.record_key(event),
            headers=envelope.headers(),
        )
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.ack_timeout_s):  # no task of its own, as wait_for
                metadata = await send
        except TimeoutError:
            raise KafkaTimeoutError(f"no acknowledgement within {self.ack_timeout_s}s") from None
        if self.on_acknowledged is not None:
            self.on_acknowledged(topic, time.perf_counter() - started)
        return Position(topic, metadata.partition, metadata.offset)
