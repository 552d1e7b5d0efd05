"""Bulk reading of the log from offset 0, for rebuilds: librdkafka (confluent-kafka).

A rebuild reads every record of a projection's topics once, as fast as it can; librdkafka
prefetches in its own threads and hands over records in large batches, which reads faster
than kafka-python here. No consumer group: partitions are assigned explicitly, from the start.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

METADATA_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class LogRecord:
    topic: str
    partition: int
    offset: int
    value: bytes


class LogReader:
    """Reads topics from the beginning; `log_end` is each partition's next offset at open."""

    def __init__(self, bootstrap_servers: str, topics: Iterable[str]) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                "group.id": "chirp-replay",  # required by the client; never joined or committed
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                "fetch.max.bytes": 64 * 1024 * 1024,
                "max.partition.fetch.bytes": 8 * 1024 * 1024,
                "queued.min.messages": 200_000,
            }
        )
        metadata = self._consumer.list_topics(timeout=METADATA_TIMEOUT_S)
        partitions = [
            TopicPartition(topic, partition, OFFSET_BEGINNING)
            for topic in sorted(topics)
            for partition in sorted(metadata.topics[topic].partitions)
        ]
        self.log_end: dict[str, int] = {}
        for tp in partitions:
            _, high = self._consumer.get_watermark_offsets(tp, timeout=METADATA_TIMEOUT_S)
            self.log_end[f"{tp.topic}:{tp.partition}"] = high
        self._consumer.assign(partitions)

    def read(self, max_records: int, timeout_s: float) -> list[LogRecord]:
        """Up to `max_records` records, waiting at most `timeout_s` for the first."""
        records = []
        for message in self._consumer.consume(num_messages=max_records, timeout=timeout_s):
            error = message.error()
            if error is not None:
                raise KafkaException(error)
            records.append(
                LogRecord(message.topic(), message.partition(), message.offset(), message.value())
            )
        return records

    def close(self) -> None:
        self._consumer.close()
