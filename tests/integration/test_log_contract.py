"""The log is readable without Chirp: kafka-python, the `avro` package and the .avsc files; the
personal fields, sealed under their author's key, open with AES-256-GCM and that key alone."""

from __future__ import annotations

import io
import json
from pathlib import Path

import avro.io
import avro.schema
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from kafka import KafkaConsumer, TopicPartition

from api.positions import decode_token
from infra.settings import Settings
from tests.support.client import ChirpClient

AVSC_DIR = Path(__file__).resolve().parents[2] / "schemas" / "avsc"
SINGLE_OBJECT_MAGIC = b"\xc3\x01"


def read_record(
    settings: Settings, topic: str, partition: int, offset: int
) -> tuple[bytes, dict[str, bytes], bytes]:
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        for _ in range(50):
            for records in consumer.poll(timeout_ms=200).values():
                record = records[0]
                assert record.offset == offset
                return record.key, dict(record.headers), record.value
        raise AssertionError(f"no record at {topic}/{partition}@{offset}")
    finally:
        consumer.close()


def decode_with_avro_package(value: bytes) -> dict[str, object]:
    assert value[:2] == SINGLE_OBJECT_MAGIC
    schema = avro.schema.parse((AVSC_DIR / "TweetPosted.v3.avsc").read_text())
    reader = avro.io.DatumReader(schema)
    decoded: dict[str, object] = reader.read(avro.io.BinaryDecoder(io.BytesIO(value[10:])))
    return decoded


def test_a_posted_tweet_is_an_avro_record_any_consumer_can_read(
    client: ChirpClient, test_settings: Settings
) -> None:
    author = client.register()
    response = client.post(
        "/v1/tweets",
        json={"text": "Log #contract test", "location": {"lat": 51.5, "lon": -0.12}},
        headers=author.auth,
    )
    assert response.status_code == 201
    [position] = decode_token(response.headers["Chirp-Position"])
    assert position.topic == "chirp.tweets"

    key, headers, value = read_record(
        test_settings, position.topic, position.partition, position.offset
    )
    assert key == author.user_id.encode()  # keyed by author: one author's tweets stay ordered
    assert headers["chirp-event-type"] == b"TweetPosted"
    assert len(headers["chirp-event-id"]) == 32
    assert int(headers["chirp-occurred-at"]) > 0
    assert headers["chirp-correlation-id"]

    record = decode_with_avro_package(value)
    assert record["tweet_id"] == int(response.json()["id"])
    assert record["author_id"] == int(author.user_id)
    assert record["hashtags"] == ["contract"]  # not personal: in the clear
    assert record["reply_to"] is None
    # The personal fields are blank in the record and sealed: the blob is a format byte, a
    # 12-byte nonce and AES-256-GCM over their JSON, bound to the event name and the author.
    assert (record["text"], record["location"], record["media_ids"]) == ("", None, [])
    blob = record["sealed"]
    assert isinstance(blob, bytes) and blob[0] == 1
    key = (
        (test_settings.personal_keys_path / f"{int(author.user_id) % 100:02d}")
        .joinpath(f"{author.user_id}.key")
        .read_bytes()
    )
    opened = AESGCM(key).decrypt(blob[1:13], blob[13:], f"TweetPosted:{author.user_id}".encode())
    assert json.loads(opened) == {
        "text": "Log #contract test",
        "media_ids": [],
        "location": {"lat": 51.5, "lon": -0.12},
    }
