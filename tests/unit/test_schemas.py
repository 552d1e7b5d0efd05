"""The event codec against the `avro` package, the Avro spec and its own error contract.

The reference bytes are built here from the `.avsc` text with `avro.io.DatumWriter` and the
header from `avro`'s own CRC-64-AVRO fingerprint, so no codec or registry code checks itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import re
from collections import Counter
from dataclasses import field, make_dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import avro.io
import avro.schema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import schemas
from domain.commands import GeoPoint
from domain.events import (
    EVENT_TYPES,
    AccountErased,
    BookmarkRemoved,
    Event,
    ListCreated,
    ListDeleted,
    ListMemberAdded,
    ListMemberRemoved,
    ListRenamed,
    MediaUploaded,
    MediaVariant,
    NotificationsRead,
    ProfileUpdated,
    RetweetUndone,
    TweetBookmarked,
    TweetDeleted,
    TweetLiked,
    TweetPosted,
    TweetRetweeted,
    TweetUnliked,
    UserFollowed,
    UserRegistered,
    UserUnfollowed,
)
from schemas import (
    CATALOGUE,
    BadMagic,
    EventCodec,
    EventDecodeError,
    EventEncodeError,
    EventSpec,
    SchemaCompatibilityError,
    SchemaDefinitionError,
    SchemaRegistry,
    TruncatedEvent,
    UnknownEventType,
    UnknownFingerprint,
    check_compatibility,
    spec_of,
)
from schemas.log import TOPIC_FAMILIES
from schemas.registry import schema_fingerprint

AVSC_DIR = Path(schemas.__file__).parent / "avsc"
AVSC_FILES = sorted(AVSC_DIR.glob("*.avsc"))
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_LONG, MAX_LONG = -(2**63), 2**63 - 1

CODEC = EventCodec()

EXAMPLES: list[Event] = [
    UserRegistered(
        user_id=7_212_345_678_901_234_567,
        handle="ada_l",
        display_name="Ada Lovelace",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        registered_at_ms=1_732_000_000_123,
    ),
    UserRegistered(
        user_id=1,
        handle="x",
        display_name="Zoë 🐦 ناصر",
        password_hash="",
        registered_at_ms=0,
        email="zoe@example.org",
    ),
    TweetPosted(tweet_id=1, author_id=2, text="hello", created_at_ms=1_732_000_000_000),
    TweetPosted(
        tweet_id=MAX_LONG,
        author_id=MAX_LONG - 1,
        text="Café #Straße @bob 😀 مرحبا 日本語",
        created_at_ms=1_732_000_000_999,
        reply_to=MAX_LONG - 2,
        quote_of=3,
        media_ids=(10, 11, MAX_LONG),
        location=GeoPoint(lat=-33.8688, lon=151.2093),
        hashtags=("straße", "日本"),
        mentions=("bob",),
    ),
    TweetPosted(
        tweet_id=5,
        author_id=6,
        text="quote",
        created_at_ms=-1,
        quote_of=4,
        location=GeoPoint(lat=0.0, lon=-0.0),
    ),
    TweetDeleted(
        tweet_id=MAX_LONG,
        author_id=2,
        deleted_at_ms=1_732_000_000_500,
        created_at_ms=1_732_000_000_000,
        reply_to=9,
        hashtags=("straße",),
    ),
    TweetDeleted(tweet_id=1, author_id=2, deleted_at_ms=3, created_at_ms=1),
    TweetRetweeted(retweet_id=MAX_LONG, tweet_id=5, user_id=6, retweeted_at_ms=7),
    RetweetUndone(tweet_id=5, user_id=6, undone_at_ms=8),
    UserFollowed(follower_id=1, followee_id=MAX_LONG, followed_at_ms=9),
    UserUnfollowed(follower_id=1, followee_id=2, unfollowed_at_ms=10),
    TweetLiked(tweet_id=MAX_LONG, user_id=3, liked_at_ms=11),
    TweetLiked(tweet_id=4, user_id=3, liked_at_ms=11, tweet_author_id=MAX_LONG),
    TweetPosted(
        tweet_id=8,
        author_id=6,
        text="@ada @bob hi",
        created_at_ms=14,
        reply_to=5,
        quote_of=7,
        mentions=("ada", "bob"),
        reply_to_author_id=1,
        quote_of_author_id=2,
        mentioned_user_ids=(1, MAX_LONG),
    ),
    NotificationsRead(user_id=3, last_seen_at_ms=15, read_at_ms=16),
    AccountErased(user_id=MAX_LONG, erased_at_ms=17, tweets_deleted=2, follows_removed=3),
    TweetUnliked(tweet_id=4, user_id=3, unliked_at_ms=12),
    MediaUploaded(
        media_id=5,
        owner_id=3,
        content_type="video/mp4",
        bytes=2_000_000,
        width=1280,
        height=720,
        uploaded_at_ms=13,
        variants=(
            MediaVariant("original", "video/mp4", 1280, 720, 2_000_000),
            MediaVariant("poster", "image/jpeg", 1280, 720, 90_000),
        ),
        alt_text="a wave, breaking",
        duration_s=4.5,
    ),
    ProfileUpdated(user_id=1, handle="x", updated_at_ms=2, display_name="Zoë", bio=""),
    ProfileUpdated(user_id=MAX_LONG, handle="y", updated_at_ms=3, avatar_media_id=MAX_LONG),
]


def _newest_avsc(event_name: str) -> Path:
    pattern = re.compile(rf"{event_name}(?:\.v(\d+))?\.avsc")
    versions = {
        int(match[1] or 1): path
        for path in AVSC_FILES
        if (match := pattern.fullmatch(path.name)) is not None
    }
    return versions[max(versions)]


@cache
def _reference_schema(event_name: str) -> avro.schema.Schema:
    return avro.schema.parse(_newest_avsc(event_name).read_text(encoding="utf-8"))


def _reference_datum(event: Event) -> dict[str, Any]:
    def timestamp(ms: int) -> datetime:
        return EPOCH + timedelta(milliseconds=ms)

    match event:
        case UserRegistered():
            return {
                "user_id": event.user_id,
                "handle": event.handle,
                "display_name": event.display_name,
                "password_hash": event.password_hash,
                "registered_at": timestamp(event.registered_at_ms),
                "email": event.email,
            }
        case TweetPosted():
            location = event.location
            return {
                "tweet_id": event.tweet_id,
                "author_id": event.author_id,
                "text": event.text,
                "created_at": timestamp(event.created_at_ms),
                "reply_to": event.reply_to,
                "quote_of": event.quote_of,
                "media_ids": list(event.media_ids),
                "location": None
                if location is None
                else {"lat": location.lat, "lon": location.lon},
                "hashtags": list(event.hashtags),
                "mentions": list(event.mentions),
                "reply_to_author_id": event.reply_to_author_id,
                "quote_of_author_id": event.quote_of_author_id,
                "mentioned_user_ids": list(event.mentioned_user_ids),
            }
        case _:
            # The other events are flat: `*_at_ms` become `*_at` timestamps, tuples arrays.
            datum: dict[str, Any] = {}
            for name, value in dataclasses.asdict(event).items():
                if name.endswith("_at_ms"):
                    datum[name.removesuffix("_ms")] = timestamp(value)
                else:
                    datum[name] = list(value) if isinstance(value, tuple) else value
            return datum


def _without_logical_types(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_without_logical_types(item) for item in schema]
    if isinstance(schema, dict):
        return {k: _without_logical_types(v) for k, v in schema.items() if k != "logicalType"}
    return schema


@cache
def _reference_fingerprint(event_name: str) -> bytes:
    # The Parsing Canonical Form drops logical types, and Java's SchemaNormalization writes a
    # timestamp-millis long as plain "long"; avro 1.12's Python canonical_form keeps it as
    # {"type":"long"} and so fingerprints differently. Without the annotations the avro
    # package computes the same fingerprint as Java.
    definition = json.loads(_newest_avsc(event_name).read_text(encoding="utf-8"))
    schema = avro.schema.parse(json.dumps(_without_logical_types(definition)))
    fingerprint: bytes = schema.fingerprint("CRC-64-AVRO")
    return fingerprint


def reference_encode(event: Event) -> bytes:
    """Single-object encoding by the `avro` package alone."""
    event_name = type(event).__name__
    body = io.BytesIO()
    writer = avro.io.DatumWriter(_reference_schema(event_name))
    writer.write(_reference_datum(event), avro.io.BinaryEncoder(body))
    return b"\xc3\x01" + _reference_fingerprint(event_name) + body.getvalue()


# --- Hypothesis strategies -------------------------------------------------------------------

ids = st.integers(min_value=0, max_value=MAX_LONG)
# The reference encoder needs a datetime for timestamp-millis, so stay within datetime's range.
millis = st.integers(
    min_value=(datetime(1, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1),
    max_value=(datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC) - EPOCH)
    // timedelta(milliseconds=1),
)
texts = st.text()
coordinates = st.floats(allow_nan=False)
user_registered = st.builds(
    UserRegistered,
    user_id=ids,
    handle=texts,
    display_name=texts,
    password_hash=texts,
    registered_at_ms=millis,
)
tweet_posted = st.builds(
    TweetPosted,
    tweet_id=ids,
    author_id=ids,
    text=texts,
    created_at_ms=millis,
    reply_to=st.none() | ids,
    quote_of=st.none() | ids,
    media_ids=st.lists(ids, max_size=4).map(tuple),
    location=st.none() | st.builds(GeoPoint, lat=coordinates, lon=coordinates),
    hashtags=st.lists(texts, max_size=4).map(tuple),
    mentions=st.lists(texts, max_size=4).map(tuple),
)
events = user_registered | tweet_posted


# --- The event catalogue ---------------------------------------------------------------------


def test_every_domain_event_class_is_in_the_catalogue_exactly_once() -> None:
    listed = Counter(spec.event_class for spec in CATALOGUE)

    assert listed == Counter(EVENT_TYPES)
    assert set(listed.values()) == {1}


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda spec: spec.schema_name)
def test_every_catalogue_event_has_a_schema_file_and_a_known_family(spec: EventSpec[Any]) -> None:
    assert (AVSC_DIR / f"{spec.schema_name}.avsc").is_file()
    assert spec.family in TOPIC_FAMILIES


def test_there_is_a_catalogue_event_for_every_schema_file() -> None:
    names = {path.name.split(".")[0] for path in AVSC_FILES}
    assert names == {spec.schema_name for spec in CATALOGUE}


# The aggregate each event's records are keyed by (DESIGN §3): one aggregate, one partition.
KEYED_EVENTS: list[tuple[Event, str, int]] = [
    (
        UserRegistered(
            user_id=1, handle="h", display_name="H", password_hash="", registered_at_ms=0
        ),
        "users",
        1,
    ),
    (TweetPosted(tweet_id=1, author_id=2, text="t", created_at_ms=0), "tweets", 2),
    (TweetDeleted(tweet_id=1, author_id=2, deleted_at_ms=1, created_at_ms=0), "tweets", 2),
    (TweetRetweeted(retweet_id=1, tweet_id=2, user_id=3, retweeted_at_ms=0), "tweets", 3),
    (RetweetUndone(tweet_id=2, user_id=3, undone_at_ms=0), "tweets", 3),
    (UserFollowed(follower_id=1, followee_id=2, followed_at_ms=0), "follows", 1),
    (UserUnfollowed(follower_id=1, followee_id=2, unfollowed_at_ms=0), "follows", 1),
    (TweetLiked(tweet_id=1, user_id=2, liked_at_ms=0), "likes", 1),
    (TweetUnliked(tweet_id=1, user_id=2, unliked_at_ms=0), "likes", 1),
    (
        MediaUploaded(
            media_id=9,
            owner_id=2,
            content_type="image/png",
            bytes=10,
            width=3,
            height=4,
            uploaded_at_ms=0,
            variants=(MediaVariant("original", "image/png", 3, 4, 10),),
        ),
        "media",
        2,
    ),
    (NotificationsRead(user_id=4, last_seen_at_ms=1, read_at_ms=2), "users", 4),
    (ListCreated(list_id=1, owner_id=2, name="n", created_at_ms=0), "collections", 2),
    (ListRenamed(list_id=1, owner_id=2, name="m", renamed_at_ms=0), "collections", 2),
    (ListDeleted(list_id=1, owner_id=2, deleted_at_ms=0), "collections", 2),
    (ListMemberAdded(list_id=1, owner_id=2, member_id=3, added_at_ms=0), "collections", 2),
    (ListMemberRemoved(list_id=1, owner_id=2, member_id=3, removed_at_ms=0), "collections", 2),
    (
        TweetBookmarked(
            bookmark_id=5, user_id=4, tweet_id=1, tweet_author_id=2, bookmarked_at_ms=0
        ),
        "collections",
        4,
    ),
    (BookmarkRemoved(user_id=4, tweet_id=1, removed_at_ms=0), "collections", 4),
    (AccountErased(user_id=6, erased_at_ms=0), "users", 6),
    (ProfileUpdated(user_id=7, handle="h", updated_at_ms=0, bio=""), "users", 7),
]


def test_every_event_type_has_a_keyed_example() -> None:
    assert {type(event) for event, _, _ in KEYED_EVENTS} == set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("event", "family", "aggregate_id"),
    KEYED_EVENTS,
    ids=[type(event).__name__ for event, _, _ in KEYED_EVENTS],
)
def test_catalogue_gives_each_event_its_family_and_aggregate_key(
    event: Event, family: str, aggregate_id: int
) -> None:
    spec = spec_of(event)

    assert spec.family == family
    assert spec.record_key(event) == str(aggregate_id).encode("ascii")


def test_an_event_outside_the_catalogue_is_an_unknown_event_type() -> None:
    not_an_event: Any = GeoPoint(lat=1.0, lon=2.0)

    with pytest.raises(UnknownEventType, match="GeoPoint"):
        spec_of(not_an_event)


def test_a_catalogue_row_with_an_unknown_family_is_refused() -> None:
    with pytest.raises(SchemaDefinitionError, match="unknown topic family 'retweets'"):
        EventSpec(TweetRetweeted, "retweets", key_of=lambda e: e.user_id)


# --- Schema files ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", AVSC_FILES, ids=lambda path: path.name)
def test_schema_file_parses_with_avro_and_is_documented(path: Path) -> None:
    schema = avro.schema.parse(path.read_text(encoding="utf-8"))

    assert isinstance(schema, avro.schema.RecordSchema)
    assert schema.namespace == "chirp.events"
    assert schema.name == path.name.split(".")[0]
    definition = json.loads(path.read_text(encoding="utf-8"))
    assert definition.get("doc")
    assert all(f.get("doc") for f in definition["fields"])


def test_packaged_versions_are_compatible() -> None:
    check_compatibility(SchemaRegistry.packaged())


@pytest.mark.parametrize(
    ("schema", "published"),
    [
        ('"null"', 7195948357588979594),
        ('"int"', 8247732601305521295),
        ('"long"', -3434872931120570953),
        (
            '{"type":"record","name":"foo","fields":[{"name":"f1","type":"boolean"}]}',
            7843277075252814651,
        ),
        # Not a published vector: a logical type is not part of the canonical form (as in Java).
        ('{"type":"long","logicalType":"timestamp-millis"}', -3434872931120570953),
    ],
)
def test_fingerprint_matches_the_avro_spec_test_vectors(schema: str, published: int) -> None:
    # Apache Avro's share/test/data/schema-tests.txt publishes these as signed 64-bit values;
    # single-object headers carry them little-endian.
    assert schema_fingerprint(json.loads(schema)) == published.to_bytes(8, "little", signed=True)


# --- Encoding and decoding -------------------------------------------------------------------


@pytest.mark.parametrize("event", EXAMPLES, ids=repr)
def test_encoding_matches_the_avro_package_byte_for_byte(event: Event) -> None:
    assert CODEC.encode(event) == reference_encode(event)


@pytest.mark.parametrize("event", EXAMPLES, ids=repr)
def test_decode_returns_the_encoded_event(event: Event) -> None:
    decoded = CODEC.decode(CODEC.encode(event))

    assert decoded == event
    assert type(decoded) is type(event)


@settings(max_examples=300, deadline=None)
@given(events)
def test_any_event_encodes_like_avro_and_round_trips(event: Event) -> None:
    encoded = CODEC.encode(event)

    assert encoded == reference_encode(event)
    assert CODEC.decode(encoded) == event


@pytest.mark.parametrize("created_at_ms", [MIN_LONG, MAX_LONG])
def test_timestamps_use_the_whole_long_range(created_at_ms: int) -> None:
    event = TweetPosted(tweet_id=1, author_id=2, text="t", created_at_ms=created_at_ms)

    assert CODEC.decode(CODEC.encode(event)) == event


def test_decoded_collections_are_tuples_and_location_a_geopoint() -> None:
    decoded = CODEC.decode(CODEC.encode(EXAMPLES[3]))

    assert isinstance(decoded, TweetPosted)
    assert isinstance(decoded.media_ids, tuple)
    assert isinstance(decoded.hashtags, tuple)
    assert isinstance(decoded.mentions, tuple)
    assert isinstance(decoded.location, GeoPoint)


def test_event_type_name_is_the_schema_record_name() -> None:
    assert CODEC.event_type_name(EXAMPLES[0]) == "UserRegistered"
    assert CODEC.event_type_name(EXAMPLES[2]) == "TweetPosted"


def test_encoding_an_unmapped_class_raises_unknown_event_type() -> None:
    not_an_event: Any = GeoPoint(lat=1.0, lon=2.0)

    with pytest.raises(UnknownEventType, match="GeoPoint"):
        CODEC.encode(not_an_event)
    with pytest.raises(UnknownEventType):
        CODEC.event_type_name(not_an_event)


def test_an_id_beyond_64_bits_is_an_encode_error() -> None:
    with pytest.raises(EventEncodeError):
        CODEC.encode(TweetPosted(tweet_id=2**63, author_id=1, text="t", created_at_ms=0))


# --- Decoding errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"\xc3", b"\xc3\x00" + bytes(8), b"\x00\x01" + bytes(8), b"\x00\x00\x00\x00\x01\x02"],
    ids=["empty", "half-magic", "wrong-second-byte", "wrong-first-byte", "confluent-framing"],
)
def test_wrong_magic_is_bad_magic(data: bytes) -> None:
    with pytest.raises(BadMagic):
        CODEC.decode(data)


def test_unknown_fingerprint_names_the_fingerprint() -> None:
    data = b"\xc3\x01" + bytes.fromhex("0123456789abcdef") + b"\x02"

    with pytest.raises(UnknownFingerprint, match="0123456789abcdef") as raised:
        CODEC.decode(data)
    assert raised.value.fingerprint == bytes.fromhex("0123456789abcdef")


@pytest.mark.parametrize("event", EXAMPLES, ids=repr)
def test_every_truncation_is_reported_as_truncated(event: Event) -> None:
    encoded = CODEC.encode(event)

    for length in range(len(encoded)):
        expected = BadMagic if length < 2 else TruncatedEvent
        with pytest.raises(expected):
            CODEC.decode(encoded[:length])


def _header(event_type: type) -> bytes:
    return CODEC.encode(next(e for e in EXAMPLES if type(e) is event_type))[:10]


def _zigzag(value: int) -> bytes:
    encoded = (value << 1) ^ (value >> 63)
    out = bytearray()
    while encoded > 0x7F:
        out.append((encoded & 0x7F) | 0x80)
        encoded >>= 7
    out.append(encoded)
    return bytes(out)


@pytest.mark.parametrize(
    ("event_type", "body"),
    [
        # user_id, then a handle whose two bytes are not UTF-8
        (UserRegistered, _zigzag(1) + _zigzag(2) + b"\xff\xfe"),
        # tweet_id, author_id, text, created_at, then branch 5 of the 2-branch reply_to union
        (TweetPosted, _zigzag(1) + _zigzag(2) + _zigzag(1) + b"t" + _zigzag(0) + _zigzag(5)),
        # the same, with the rest of a plausible body after it
        (
            TweetPosted,
            _zigzag(1) + _zigzag(2) + _zigzag(1) + b"t" + _zigzag(0) + _zigzag(5) + bytes(8),
        ),
        # tweet_id, author_id, then a text of negative length
        (TweetPosted, _zigzag(1) + _zigzag(2) + _zigzag(-3) + b"abc" + bytes(8)),
    ],
    ids=["invalid-utf8", "bad-union-branch", "bad-union-branch-mid", "negative-length"],
)
def test_corrupt_bodies_are_decode_errors(event_type: type, body: bytes) -> None:
    with pytest.raises(EventDecodeError) as raised:
        CODEC.decode(_header(event_type) + body)
    assert raised.value.__cause__ is not None


def test_trailing_bytes_are_a_decode_error() -> None:
    with pytest.raises(EventDecodeError, match="unexpected bytes"):
        CODEC.decode(CODEC.encode(EXAMPLES[0]) + b"\x00")


@settings(max_examples=500, deadline=None)
@given(st.sampled_from([UserRegistered, TweetPosted]), st.binary(max_size=64))
def test_garbage_bodies_never_escape_as_other_exceptions(event_type: type, body: bytes) -> None:
    with contextlib.suppress(EventDecodeError):
        CODEC.decode(_header(event_type) + body)


# --- Registry and evolution ------------------------------------------------------------------

TweetPostedWithLanguage = make_dataclass(
    "TweetPosted",
    [
        ("tweet_id", int),
        ("author_id", int),
        ("text", str),
        ("created_at_ms", int),
        ("reply_to", int | None, field(default=None)),
        ("quote_of", int | None, field(default=None)),
        ("media_ids", tuple, field(default=())),
        ("location", GeoPoint | None, field(default=None)),
        ("hashtags", tuple, field(default=())),
        ("mentions", tuple, field(default=())),
        ("reply_to_author_id", int | None, field(default=None)),
        ("quote_of_author_id", int | None, field(default=None)),
        ("mentioned_user_ids", tuple, field(default=())),
        ("language", str, field(default="und")),
    ],
    frozen=True,
    slots=True,
)
CATALOGUE_WITH_LANGUAGE = [
    *(spec for spec in CATALOGUE if spec.event_class is not TweetPosted),
    dataclasses.replace(spec_of(EXAMPLES[2]), event_class=TweetPostedWithLanguage),
]


# The version after the newest `TweetPosted` schema, adding a `language` field.
NEXT_TWEET_POSTED = f"TweetPosted.v{len(list(AVSC_DIR.glob('TweetPosted*.avsc'))) + 1}.avsc"


def _schema_dir_with_tweet_posted_v2(tmp_path: Path, language_field: dict[str, Any]) -> Path:
    for path in AVSC_FILES:
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    newest = json.loads(_newest_avsc("TweetPosted").read_text(encoding="utf-8"))
    newest["fields"].append(language_field)
    (tmp_path / NEXT_TWEET_POSTED).write_text(json.dumps(newest), encoding="utf-8")
    return tmp_path


def test_added_field_with_default_is_compatible_and_old_events_decode(tmp_path: Path) -> None:
    language = {"name": "language", "type": "string", "default": "und", "doc": "BCP 47 tag."}
    registry = SchemaRegistry.from_directory(_schema_dir_with_tweet_posted_v2(tmp_path, language))
    check_compatibility(registry)
    codec_v2 = EventCodec(registry, CATALOGUE_WITH_LANGUAGE)
    old = EXAMPLES[3]
    assert isinstance(old, TweetPosted)

    decoded = codec_v2.decode(CODEC.encode(old))

    assert decoded == TweetPostedWithLanguage(
        tweet_id=old.tweet_id,
        author_id=old.author_id,
        text=old.text,
        created_at_ms=old.created_at_ms,
        reply_to=old.reply_to,
        quote_of=old.quote_of,
        media_ids=old.media_ids,
        location=old.location,
        hashtags=old.hashtags,
        mentions=old.mentions,
        language="und",
    )
    new = TweetPostedWithLanguage(
        tweet_id=1, author_id=2, text="hola", created_at_ms=3, language="es"
    )
    encoded = codec_v2.encode(new)
    assert encoded[2:10] == registry.latest("TweetPosted").fingerprint
    assert encoded[2:10] != registry.versions("TweetPosted")[0].fingerprint
    assert codec_v2.decode(encoded) == new


def test_added_field_without_default_is_rejected(tmp_path: Path) -> None:
    language = {"name": "language", "type": "string", "doc": "BCP 47 tag."}
    registry = SchemaRegistry.from_directory(_schema_dir_with_tweet_posted_v2(tmp_path, language))

    with pytest.raises(SchemaCompatibilityError, match="language") as raised:
        check_compatibility(registry)
    assert raised.value.problems[0].startswith(f"{NEXT_TWEET_POSTED} cannot read TweetPosted")


def test_codec_refuses_a_domain_class_that_does_not_match_the_newest_schema(
    tmp_path: Path,
) -> None:
    language = {"name": "language", "type": "string", "default": "und", "doc": "BCP 47 tag."}
    registry = SchemaRegistry.from_directory(_schema_dir_with_tweet_posted_v2(tmp_path, language))

    with pytest.raises(SchemaDefinitionError, match="language"):
        EventCodec(registry)


def test_codec_refuses_a_catalogue_event_without_a_schema(tmp_path: Path) -> None:
    (tmp_path / "UserRegistered.avsc").write_text(
        (AVSC_DIR / "UserRegistered.avsc").read_text(encoding="utf-8"), encoding="utf-8"
    )

    with pytest.raises(
        SchemaDefinitionError, match=r"catalogue events without a schema: .*TweetPosted"
    ):
        EventCodec(SchemaRegistry.from_directory(tmp_path))


@pytest.mark.parametrize(
    ("file_name", "text", "message"),
    [
        ("tweet-posted.avsc", '{"type":"record","name":"X","fields":[]}', "file name"),
        (
            "Other.avsc",
            (AVSC_DIR / "UserRegistered.avsc").read_text(),
            "expected 'chirp.events.Other'",
        ),
        ("Broken.avsc", "{not json", "not a valid Avro schema"),
        ("Long.avsc", '"long"', "must be a record"),
    ],
)
def test_registry_rejects_malformed_schema_files(
    tmp_path: Path, file_name: str, text: str, message: str
) -> None:
    (tmp_path / file_name).write_text(text, encoding="utf-8")

    with pytest.raises(SchemaDefinitionError, match=message):
        SchemaRegistry.from_directory(tmp_path)


def test_registry_rejects_two_files_for_one_version(tmp_path: Path) -> None:
    text = (AVSC_DIR / "UserRegistered.avsc").read_text(encoding="utf-8")
    (tmp_path / "UserRegistered.avsc").write_text(text, encoding="utf-8")
    (tmp_path / "UserRegistered.v1.avsc").write_text(text, encoding="utf-8")

    with pytest.raises(SchemaDefinitionError, match="both version 1"):
        SchemaRegistry.from_directory(tmp_path)


def test_registry_rejects_versions_with_the_same_fingerprint(tmp_path: Path) -> None:
    text = (AVSC_DIR / "UserRegistered.avsc").read_text(encoding="utf-8")
    (tmp_path / "UserRegistered.avsc").write_text(text, encoding="utf-8")
    (tmp_path / "UserRegistered.v2.avsc").write_text(
        text.replace("Unique handle", "The unique handle"), encoding="utf-8"
    )

    with pytest.raises(SchemaDefinitionError, match="same fingerprint"):
        SchemaRegistry.from_directory(tmp_path)


def test_registry_looks_up_by_fingerprint_and_name() -> None:
    registry = SchemaRegistry.packaged()
    latest = registry.latest("TweetPosted")

    assert registry.by_fingerprint(latest.fingerprint) is latest
    assert registry.event_names == tuple(sorted({p.name.split(".")[0] for p in AVSC_FILES}))
    with pytest.raises(UnknownFingerprint):
        registry.by_fingerprint(bytes(8))
    with pytest.raises(UnknownEventType):
        registry.latest("TweetEdited")


@pytest.mark.parametrize(
    "old",
    [
        TweetLiked(tweet_id=1, user_id=2, liked_at_ms=3),
        TweetPosted(tweet_id=1, author_id=2, text="@ada", created_at_ms=3, mentions=("ada",)),
        UserRegistered(1, "ada", "Ada", "$argon2id$x", 4),
    ],
    ids=lambda e: type(e).__name__,
)
def test_events_written_before_version_2_decode_naming_no_recipient(old: Event) -> None:
    """Version 1 events (before notifications) still decode: nobody is named to notify."""
    registry = SchemaRegistry.packaged()
    v1 = registry.versions(type(old).__name__)[0]
    datum = {
        k: v
        for k, v in _reference_datum(old).items()
        if k in {f["name"] for f in json.loads(v1.text)["fields"]}
    }
    body = io.BytesIO()
    avro.io.DatumWriter(avro.schema.parse(v1.text)).write(datum, avro.io.BinaryEncoder(body))

    decoded = CODEC.decode(b"\xc3\x01" + v1.fingerprint + body.getvalue())

    assert decoded == old
    assert getattr(decoded, "tweet_author_id", None) is None
    assert getattr(decoded, "mentioned_user_ids", ()) == ()


# --- Shapes future events may use ------------------------------------------------------------

GEO_POINT = {
    "type": "record",
    "name": "GeoPoint",
    "fields": [{"name": "lat", "type": "double"}, {"name": "lon", "type": "double"}],
}
Sampled = make_dataclass(
    "Sampled",
    [("points", tuple), ("route", tuple | None), ("series", dict), ("labels", dict)],
    frozen=True,
)


def _sampled_codec(tmp_path: Path, route_type: list[Any]) -> EventCodec:
    schema = {
        "type": "record",
        "name": "Sampled",
        "namespace": "chirp.events",
        "fields": [
            {"name": "points", "type": {"type": "array", "items": GEO_POINT}},
            {"name": "route", "type": route_type},
            {
                "name": "series",
                "type": {"type": "map", "values": {"type": "array", "items": "long"}},
            },
            {"name": "labels", "type": {"type": "map", "values": "string"}},
        ],
    }
    (tmp_path / "Sampled.avsc").write_text(json.dumps(schema), encoding="utf-8")
    spec = EventSpec(Sampled, "tweets", key_of=lambda _: 0)
    return EventCodec(SchemaRegistry.from_directory(tmp_path), [spec])


def test_arrays_maps_and_nested_records_map_to_domain_types(tmp_path: Path) -> None:
    codec = _sampled_codec(tmp_path, ["null", {"type": "array", "items": "chirp.events.GeoPoint"}])
    event = Sampled(
        points=(GeoPoint(1.0, 2.0), GeoPoint(3.0, 4.0)),
        route=(GeoPoint(5.0, 6.0),),
        series={"a": (1, 2), "b": ()},
        labels={"k": "v"},
    )
    without_route = Sampled(points=(), route=None, series={}, labels={})

    assert codec.decode(codec.encode(event)) == event
    assert codec.decode(codec.encode(without_route)) == without_route


def test_unions_of_several_types_needing_conversion_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SchemaDefinitionError, match="unsupported union"):
        _sampled_codec(
            tmp_path, ["null", "long", {"type": "array", "items": "chirp.events.GeoPoint"}]
        )
