"""Turns domain events into Kafka records and waits for the broker's acknowledgement."""

from __future__ import annotations

from collections.abc import Callable

from aiokafka import AIOKafkaProducer

from domain.clock import now_ms
from domain.events import Event
from schemas import EventCodec, spec_of
from schemas.envelope import Envelope
from schemas.log import Position


class EventPublisher:
    """Produces one event per call with acks=all on an idempotent producer."""

    def __init__(
        self, producer: AIOKafkaProducer, codec: EventCodec, topic_of: Callable[[str], str]
    ) -> None:
        self.producer = producer
        self.codec = codec
        self.topic_of = topic_of  # family -> topic name

    async def publish(self, event: Event, *, correlation_id: str | None) -> Position:
        spec = spec_of(event)
        envelope = Envelope.new(spec.schema_name, now_ms(), correlation_id)
        topic = self.topic_of(spec.family)
        metadata = await self.producer.send_and_wait(
            topic,
            value=self.codec.encode(event),
            key=spec.record_key(event),
            headers=envelope.headers(),
        )
        return Position(topic, metadata.partition, metadata.offset)
