"""An operator lists, shows and replays dead letters with `chirp dlq`; nothing is ever lost.

A letter that still fails after its replay comes back as a new letter naming the old one; a
letter whose record the worker handles now (as after a fix) reaches the projections.
"""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.partitioner.default import murmur2
from rich.console import Console
from typer.testing import CliRunner

from domain.events import TweetPosted
from domain.ids import IdGenerator
from infra import cli, dead_letters_cli
from infra.dead_letters import HEADER_REPLAY_OF, DeadLetter, read_dead_letters
from infra.local_services import KafkaBroker
from infra.settings import Settings
from infra.topics import ensure_topics
from schemas import EventCodec
from streams.dead_letters import HEADER_ERROR, HEADER_SOURCE
from tests.support.client import ChirpClient
from tests.support.waiting import wait_for

FIXED_AUTHOR_NODE = 1021  # ids made here for a record "the old worker could not handle"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """One table row per line, so a row can be found by its letter id."""
    monkeypatch.setattr(dead_letters_cli, "console", Console(width=300))


def chirp(settings: Settings, *args: str, exit_code: int = 0) -> str:
    result = CliRunner().invoke(cli.app, list(args), env=settings.environment_variables())
    assert result.exit_code == exit_code, result.output
    return result.output


def row_of(output: str, letter_id: str) -> list[str]:
    """The cells of the table row of one letter."""
    rows = [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]
    [row] = [cells for cells in rows if cells[0] == letter_id]
    return row


def letters_holding(settings: Settings, value: bytes) -> list[DeadLetter]:
    return [letter for letter in read_dead_letters(settings) if letter.value == value]


def produce(settings: Settings, topic: str, key: bytes, value: bytes, **fields: object) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    try:
        producer.send(topic, key=key, value=value, **fields).get(timeout=30)  # type: ignore[arg-type]
    finally:
        producer.close()


def records_of(settings: Settings, topic: str) -> list[tuple[int, bytes | None, bytes, dict]]:  # type: ignore[type-arg]
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        found = []
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for batch in consumer.poll(timeout_ms=500).values():
                found += [(r.partition, r.key, r.value, dict(r.headers)) for r in batch]
        return found
    finally:
        consumer.close()


def test_a_letter_that_still_fails_goes_back_to_the_dead_letters(
    client: ChirpClient, test_settings: Settings
) -> None:
    author = client.register()
    garbage = f"not an event {uuid.uuid4().hex}".encode()
    produce(test_settings, test_settings.topic("tweets"), author.user_id.encode(), garbage)
    [letter] = wait_for(
        lambda: letters_holding(test_settings, garbage), timeout_s=30, what="the dead letter"
    )

    listed = chirp(test_settings, "dlq", "list")
    letter_id, _, source, key, error, status = row_of(listed, letter.id)
    assert (letter_id, source, key, status) == (letter.id, letter.source, author.user_id, "pending")
    assert error == letter.error

    shown = chirp(test_settings, "dlq", "show", letter.id)
    assert letter.source in shown and letter.source.startswith("chirp.tweets:")
    assert "still undecodable" in shown
    assert repr(garbage) in shown
    assert author.user_id in shown  # the key

    replayed = chirp(test_settings, "dlq", "replay", letter.id)
    assert f"{letter.id} -> chirp.tweets:" in replayed

    again = wait_for(
        lambda: [one for one in letters_holding(test_settings, garbage) if one.replay_of],
        timeout_s=30,
        what="the replayed letter back in the dead letters",
    )
    [back] = again
    assert back.replay_of == letter.id
    assert back.key == letter.key
    assert back.source != letter.source  # read from the re-driven record's own position
    assert len(letters_holding(test_settings, garbage)) == 2  # the first letter is still there

    listed = chirp(test_settings, "dlq", "list")
    assert row_of(listed, letter.id)[-1] == f"replayed, failed again as {back.id}"
    assert row_of(listed, back.id)[-1] == "pending"

    refused = chirp(test_settings, "dlq", "replay", letter.id, exit_code=1)
    assert "replayed already" in refused


def test_a_letter_the_worker_can_handle_now_reaches_the_projections(
    client: ChirpClient, test_settings: Settings
) -> None:
    author = client.register()
    tweet_id = IdGenerator(FIXED_AUTHOR_NODE).next_id()
    event = TweetPosted(tweet_id, int(author.user_id), "parked, then replayed", 1_700_000_000_000)
    key = author.user_id.encode()
    tweets = test_settings.topic("tweets")
    partition = (murmur2(key) & 0x7FFFFFFF) % test_settings.topic_partitions  # as producers do
    headers = [
        (HEADER_ERROR, b"failed before the fix"),
        (HEADER_SOURCE, f"{tweets}:{partition}:0".encode()),
    ]
    value = EventCodec().encode(event)
    produce(test_settings, test_settings.topic("deadletter"), key, value, headers=headers)
    [letter] = letters_holding(test_settings, value)
    assert "decodes today as: TweetPosted" in chirp(test_settings, "dlq", "show", letter.id)

    chirp(test_settings, "dlq", "replay", letter.id)

    wait_for(
        lambda: str(tweet_id) in client.ids(client.user_tweets(author.handle)),
        timeout_s=30,
        what="the replayed tweet in the author's timeline",
    )
    [after] = letters_holding(test_settings, value)
    assert after.status == "replayed"


def test_replay_all_re_drives_each_pending_letter_once_with_its_key_and_headers(
    kafka: KafkaBroker, test_settings: Settings
) -> None:
    """On topics of their own, with no worker: what a replay writes, exactly."""
    settings = test_settings.model_copy(update={"topic_prefix": f"dlq{uuid.uuid4().hex[:8]}"})
    ensure_topics(settings, timeout=settings.startup_timeout_s)
    tweets, likes = settings.topic("tweets"), settings.topic("likes")
    parked = [(tweets, 2, b"first"), (likes, 1, b"second")]
    for topic, partition, value in parked:
        headers = [
            ("trace-id", b"t-" + value),
            (HEADER_SOURCE, f"{topic}:{partition}:7".encode()),
            (HEADER_ERROR, b"bad bytes"),
        ]
        produce(settings, settings.topic("deadletter"), b"key-" + value, value, headers=headers)

    output = chirp(settings, "dlq", "replay", "--all")
    assert "2 replayed" in output
    for topic, partition, value in parked:
        [(to_partition, key, body, headers)] = records_of(settings, topic)
        assert (to_partition, key, body) == (partition, b"key-" + value, value)
        assert headers["trace-id"] == b"t-" + value
        assert HEADER_ERROR not in headers and HEADER_SOURCE not in headers
        assert headers[HEADER_REPLAY_OF]

    assert "0 replayed" in chirp(settings, "dlq", "replay", "--all")
    assert "2 dead letters, 0 pending" in chirp(settings, "dlq", "list")
    assert "2 replayed" in chirp(settings, "dlq", "replay", "--all", "--again")
    assert len(records_of(settings, tweets)) == 2
    chirp(settings, "dlq", "replay", exit_code=1)  # neither an id nor --all
    chirp(settings, "dlq", "show", "9:999", exit_code=1)
    chirp(settings, "dlq", "show", "nonsense", exit_code=1)
