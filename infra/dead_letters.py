"""Dead letters an operator can act on: list, show and replay what the worker parked.

The worker copies each record it cannot handle to the dead-letter topic (`chirp.deadletter`)
with its key and headers, plus the error and the record's source position as headers
(`streams.dead_letters`). A letter's id is its `partition:offset` in that topic.

Replaying a letter produces its original record (key, value and headers, without the
dead-letter ones) to the partition it came from, where the worker handles it again, and then
appends a marker to the dead-letter topic (an empty value whose header names the letter and
where the record went), so whether a letter was replayed is read from the log alone. The
re-driven record carries the letter's id in a header: if it fails again the worker parks it as
a new letter that names the old one, so nothing is lost. Records first, marker second: a replay
cut short shows as not replayed, and replaying it again is at worst a duplicate, which every
projection absorbs (they are idempotent).

Never deletes or rewrites a letter; never consumes in a consumer group.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from infra.settings import Settings
from infra.topics import dead_letter_topic
from streams.dead_letters import HEADER_ERROR, HEADER_SOURCE

HEADER_REPLAY_OF = "chirp-replay-of"  # on a re-driven record: the id of its letter
HEADER_REPLAYED = "chirp-dead-letter-replayed"  # on a marker: the id of the letter replayed
HEADER_REPLAYED_TO = "chirp-dead-letter-replayed-to"  # on a marker: topic:partition:offset
DEAD_LETTER_HEADERS = frozenset({HEADER_ERROR, HEADER_SOURCE, HEADER_REPLAY_OF})
POLL_TIMEOUT_MS = 500
SEND_TIMEOUT_S = 30.0

Headers = list[tuple[str, bytes]]


class DeadLetterError(Exception):
    """A letter id that is malformed or names no letter; the message says which."""


@dataclass(frozen=True, slots=True)
class Replay:
    """One replay of a letter: where its record went."""

    letter_id: str
    to: str  # topic:partition:offset of the re-driven record


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str  # partition:offset in the dead-letter topic
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: Headers
    replays: tuple[Replay, ...] = ()
    failed_again_as: tuple[str, ...] = ()  # letters its replays became

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key == name]
        return values[-1].decode(errors="replace") if values else None

    @property
    def source(self) -> str:
        """Where the record was read from: `topic:partition:offset`."""
        return self.header(HEADER_SOURCE) or "?"

    @property
    def error(self) -> str:
        return self.header(HEADER_ERROR) or "?"

    @property
    def replay_of(self) -> str | None:
        """The letter this one was replayed from, if it is a replay that failed again."""
        return self.header(HEADER_REPLAY_OF)

    @property
    def original_headers(self) -> Headers:
        """The record's own headers, as they were before it was dead-lettered."""
        return [(key, value) for key, value in self.headers if key not in DEAD_LETTER_HEADERS]

    @property
    def replayed(self) -> bool:
        return bool(self.replays)

    @property
    def status(self) -> str:
        if not self.replays:
            return "pending"
        if self.failed_again_as:
            return f"replayed, failed again as {', '.join(self.failed_again_as)}"
        return "replayed"


def letter_id(partition: int, offset: int) -> str:
    return f"{partition}:{offset}"


def parse_letter_id(text: str) -> tuple[int, int]:
    partition, _, offset = text.partition(":")
    if not (partition.isdigit() and offset.isdigit()):
        raise DeadLetterError(f"a letter id is PARTITION:OFFSET, e.g. 0:12; got {text!r}")
    return int(partition), int(offset)


def parse_source(source: str) -> tuple[str, int]:
    """The topic and partition of a `topic:partition:offset` source."""
    parts = source.rsplit(":", 2)
    topic, partition, offset = parts if len(parts) == 3 else ("", "", "")
    if not (topic and partition.isdigit() and offset.isdigit()):
        raise DeadLetterError(f"the letter names no source position it can go back to: {source!r}")
    return topic, int(partition)


def read_dead_letters(settings: Settings) -> list[DeadLetter]:
    """Every letter in the dead-letter topic, oldest first per partition, with its replays."""
    topic = dead_letter_topic(settings)
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records = []
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for batch in consumer.poll(timeout_ms=POLL_TIMEOUT_MS).values():
                records += [r for r in batch if r.offset < ends[TopicPartition(topic, r.partition)]]
    finally:
        consumer.close()
    letters: list[DeadLetter] = []
    replays: dict[str, list[Replay]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        headers = [(key, bytes(value)) for key, value in record.headers or ()]
        marker = dict(headers)
        if HEADER_REPLAYED in marker:
            replayed = marker[HEADER_REPLAYED].decode()
            to = marker.get(HEADER_REPLAYED_TO, b"?").decode()
            replays.setdefault(replayed, []).append(Replay(replayed, to))
            continue
        letters.append(
            DeadLetter(
                letter_id(record.partition, record.offset),
                record.timestamp,
                record.key,
                record.value or b"",
                headers,
            )
        )
    failed_again: dict[str, list[str]] = {}
    for letter in letters:
        if letter.replay_of is not None:
            failed_again.setdefault(letter.replay_of, []).append(letter.id)
    return [
        DeadLetter(
            letter.id,
            letter.timestamp_ms,
            letter.key,
            letter.value,
            letter.headers,
            tuple(replays.get(letter.id, ())),
            tuple(failed_again.get(letter.id, ())),
        )
        for letter in letters
    ]


def find_letter(letters: Iterable[DeadLetter], wanted: str) -> DeadLetter:
    parse_letter_id(wanted)
    for letter in letters:
        if letter.id == wanted:
            return letter
    raise DeadLetterError(f"no dead letter {wanted}")


def replay_letters(settings: Settings, letters: Sequence[DeadLetter]) -> list[Replay]:
    """Re-drive each letter's record to where it came from, then mark the letter replayed."""
    targets = [parse_source(letter.source) for letter in letters]  # refuse before sending any
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    try:
        done = []
        for letter, (topic, partition) in zip(letters, targets, strict=True):
            headers = [*letter.original_headers, (HEADER_REPLAY_OF, letter.id.encode())]
            sent = producer.send(
                topic, key=letter.key, value=letter.value, headers=headers, partition=partition
            ).get(timeout=SEND_TIMEOUT_S)
            to = f"{sent.topic}:{sent.partition}:{sent.offset}"
            letter_partition, _ = parse_letter_id(letter.id)
            marker = [(HEADER_REPLAYED, letter.id.encode()), (HEADER_REPLAYED_TO, to.encode())]
            producer.send(
                dead_letter_topic(settings),
                key=letter.id.encode(),
                value=b"",
                headers=marker,
                partition=letter_partition,
            ).get(timeout=SEND_TIMEOUT_S)
            done.append(Replay(letter.id, to))
        return done
    finally:
        producer.close()
