"""Turns domain events into Kafka records and waits for the broker's acknowledgement."""

from __future__ import annotations

from collections.abc import Callable

from aiokafka import AIOKafkaProducer

from domain.clock import now_ms
from domain.events import Event
from projections.base import Position
from schemas import EventCodec
from schemas.envelope import Envelope, record_key, topic_family


class EventPublisher:
    """Produces one event per call with acks=all on an idempotent producer."""

    def __init__(
        self, producer: AIOKafkaProducer, codec: EventCodec, topic_of: Callable[[str], str]
    ) -> None:
        self.producer = producer
        self.codec = codec
        self.topic_of = topic_of  # family -> topic name

    async def publish(self, event: Event, *, correlation_id: str | None) -> Position:
        event_type = type(event).__name__
        envelope = Envelope.new(event_type, now_ms(), correlation_id)
        topic = self.topic_of(topic_family(event_type))
        metadata = await self.producer.send_and_wait(
            topic,
            value=self.codec.encode(event),
            key=record_key(event.aggregate_id),
            headers=envelope.headers(),
        )
        return Position(topic, metadata.partition, metadata.offset)
