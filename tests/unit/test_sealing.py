"""Crypto-shredding at the codec: personal fields sealed under their owner's key, read as erased
once the key is gone, and events written before sealing still read as they were (golden bytes
in tests/golden/). Keys live in a temporary directory; no broker."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from domain.commands import GeoPoint
from domain.events import Event, MediaUploaded, ProfileUpdated, TweetPosted, UserRegistered
from infra.personal_keys import FileKeys
from schemas import CATALOGUE, EventCodec, EventDecodeError
from schemas.sealing import (
    KeyDestroyed,
    UnreadableSeal,
    associated_data,
    new_key,
    seal,
    unseal,
)

GOLDEN = Path(__file__).parents[1] / "golden" / "personal_events_before_sealing.json"
ADA, BOB = 7200000000000001, 7200000000000002

TWEET = TweetPosted(
    tweet_id=7300000000000009,
    author_id=ADA,
    text="meet me at the old mill #picnic",
    created_at_ms=1_790_000_000_000,
    media_ids=(7400000000000001, 7400000000000002),
    location=GeoPoint(lat=48.1371, lon=11.5754),
    hashtags=("picnic",),
)
REGISTERED = UserRegistered(
    user_id=ADA,
    handle="ada",
    display_name="Ada Lovelace",
    password_hash="$argon2id$hash",
    registered_at_ms=1_790_000_000_000,
    email="ada@example.org",
)
PROFILE = ProfileUpdated(
    user_id=ADA,
    handle="ada",
    updated_at_ms=1_790_000_000_001,
    display_name="Countess",
    bio="poet of numbers",
    avatar_media_id=7400000000000003,
)
UPLOAD = MediaUploaded(
    media_id=7400000000000001,
    owner_id=ADA,
    content_type="image/png",
    bytes=10,
    width=1,
    height=1,
    uploaded_at_ms=1_790_000_000_002,
    variants=(),
    alt_text="the mill pond at dawn",
)
# What a personal field reads as once erased, where that is not None.
ERASED = {
    (TweetPosted, "text"): "",
    (TweetPosted, "media_ids"): (),
    (UserRegistered, "display_name"): "",
}
PERSONAL: dict[type, tuple[str, ...]] = {spec.event_class: spec.sealed for spec in CATALOGUE}


@pytest.fixture
def keys(tmp_path: Path) -> FileKeys:
    return FileKeys(tmp_path / "keys", cache_s=0.0)


@pytest.fixture
def codec(keys: FileKeys) -> EventCodec:
    return EventCodec(keys=keys)


def words_of(event: Event) -> list[str]:
    """The personal values of an event that are text."""
    values = [getattr(event, name) for name in PERSONAL[type(event)]]
    return [value for value in values if isinstance(value, str)]


@pytest.mark.parametrize("event", [TWEET, REGISTERED, PROFILE, UPLOAD], ids=type)
def test_personal_fields_are_sealed_on_the_wire_and_open_with_the_key(
    codec: EventCodec, event: Event
) -> None:
    wire = codec.encode(event)
    assert words_of(event)
    assert not [words for words in words_of(event) if words.encode() in wire]
    assert codec.decode(wire) == event


@pytest.mark.parametrize("event", [TWEET, REGISTERED, PROFILE, UPLOAD], ids=type)
def test_once_the_key_is_destroyed_personal_fields_read_as_erased_and_the_rest_stays(
    keys: FileKeys, codec: EventCodec, event: Event
) -> None:
    wire = codec.encode(event)
    keys.destroy(ADA)
    erased = codec.decode(wire)
    for name in PERSONAL[type(event)]:
        assert getattr(erased, name) == ERASED.get((type(event), name)), name
    others = {f.name for f in dataclasses.fields(event)} - set(PERSONAL[type(event)])
    assert {n: getattr(erased, n) for n in others} == {n: getattr(event, n) for n in others}


def test_a_codec_without_keys_writes_in_the_clear_and_reads_sealed_fields_as_erased(
    codec: EventCodec,
) -> None:
    clear = EventCodec()
    assert clear.decode(clear.encode(TWEET)) == TWEET
    assert codec.decode(clear.encode(TWEET)) == TWEET  # the clear form reads anywhere
    assert clear.decode(codec.encode(TWEET)).text == ""


def test_nothing_is_sealed_for_an_erased_account_again(keys: FileKeys, codec: EventCodec) -> None:
    codec.encode(TWEET)
    keys.destroy(ADA)
    with pytest.raises(KeyDestroyed):
        codec.encode(TWEET)
    assert codec.decode(EventCodec(keys=keys).encode(dataclasses.replace(TWEET, author_id=BOB)))


def test_a_tampered_seal_is_undecodable_not_erased(codec: EventCodec) -> None:
    wire = bytearray(codec.encode(TWEET))
    wire[-3] ^= 0x01  # the sealed blob is the record's last field: this is inside its tag
    with pytest.raises(UnreadableSeal) as tampered:
        codec.decode(bytes(wire))
    assert isinstance(tampered.value, EventDecodeError)  # so the worker dead-letters it


def test_a_seal_opens_only_for_the_event_and_owner_it_was_made_for() -> None:
    key = new_key()
    blob = seal(key, {"text": "hi"}, associated_data("TweetPosted", ADA))
    assert unseal(key, blob, associated_data("TweetPosted", ADA)) == {"text": "hi"}
    for elsewhere in (associated_data("TweetPosted", BOB), associated_data("ProfileUpdated", ADA)):
        with pytest.raises(UnreadableSeal):
            unseal(key, blob, elsewhere)
    with pytest.raises(UnreadableSeal):
        unseal(new_key(), blob, associated_data("TweetPosted", ADA))


@pytest.mark.parametrize("name", json.loads(GOLDEN.read_text()))
def test_events_written_before_sealing_read_as_they_were(codec: EventCodec, name: str) -> None:
    golden = json.loads(GOLDEN.read_text())[name]
    for reader in (codec, EventCodec()):
        assert repr(reader.decode(bytes.fromhex(golden["hex"]))) == golden["repr"]


def test_a_key_is_made_once_however_many_processes_ask(tmp_path: Path) -> None:
    first, second = FileKeys(tmp_path, cache_s=60.0), FileKeys(tmp_path, cache_s=60.0)
    assert first.key_of(ADA) is None
    made = first.key_for_writing(ADA)
    assert second.key_for_writing(ADA) == made == second.key_of(ADA)
    assert (first.path_of(ADA).stat().st_mode & 0o777) == 0o600


def test_a_destroyed_key_is_gone_for_every_process_that_looks_after_its_cache(
    tmp_path: Path,
) -> None:
    writer, reader = FileKeys(tmp_path, cache_s=60.0), FileKeys(tmp_path, cache_s=0.0)
    writer.key_for_writing(ADA)
    assert reader.key_of(ADA) is not None
    writer.destroy(ADA)
    writer.destroy(ADA)  # idempotent
    assert writer.key_of(ADA) is None and reader.key_of(ADA) is None
    assert FileKeys(tmp_path).key_of(ADA) is None  # a process started afterwards
    with pytest.raises(KeyDestroyed):
        reader.key_for_writing(ADA)
