"""A record that cannot be decoded goes to the dead-letter topic; the worker carries on."""

from __future__ import annotations

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from infra.app_processes import WorkerProcess
from infra.settings import Settings
from tests.support.client import ChirpClient
from tests.support.waiting import wait_for

GARBAGE = [b"not avro at all", b"\xc3\x01" + b"\x00" * 8 + b"unknown fingerprint", b"\xc3"]


def dead_letters(settings: Settings) -> list[tuple[bytes, dict[str, bytes]]]:
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False)
    try:
        topic = settings.topic("deadletter")
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        found = []
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for records in consumer.poll(timeout_ms=500).values():
                found += [(r.value, dict(r.headers)) for r in records]
        return found
    finally:
        consumer.close()


def test_undecodable_records_are_dead_lettered_and_later_events_still_project(
    client: ChirpClient, worker: WorkerProcess, test_settings: Settings
) -> None:
    author = client.register()
    producer = KafkaProducer(bootstrap_servers=test_settings.bootstrap_servers, acks="all")
    for value in GARBAGE:
        producer.send(test_settings.topic("tweets"), key=author.user_id.encode(), value=value)
    producer.flush()
    producer.close()

    after = client.tweet(author, "still projected after the bad records")
    assert [t["id"] for t in client.user_tweets(author.handle)] == [after["id"]]
    assert worker.is_running()

    lettered = wait_for(
        lambda: [v for v, _ in dead_letters(test_settings) if v in GARBAGE],
        timeout_s=30,
        what="dead letters",
    )
    assert sorted(lettered) == sorted(GARBAGE)
    headers = dict(dead_letters(test_settings))
    for value in GARBAGE:
        assert headers[value]["chirp-dead-letter-source"].startswith(b"chirp.tweets:")
        assert headers[value]["chirp-dead-letter-error"]
