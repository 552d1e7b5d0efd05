"""Event -> analytic table mapping: typed columns, partitioning, rows, and no secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from pyiceberg.transforms import DayTransform
from pyiceberg.types import (
    DoubleType,
    IntegerType,
    ListType,
    LongType,
    NestedField,
    StringType,
    StructType,
    TimestamptzType,
)

from domain.commands import GeoPoint
from domain.events import EVENT_TYPES, TweetDeleted, TweetPosted, UserRegistered
from infra.analytics.catalog import missing_columns
from infra.analytics.tables import (
    NAMESPACE,
    TABLE_PROPERTIES,
    RecordMeta,
    UnsupportedFieldType,
    event_table,
    table_name,
)

META = RecordMeta(
    event_id="9f" * 16,
    occurred_at_ms=1_700_000_000_123,
    correlation_id="c0ffee",
    topic="chirp.tweets",
    partition=3,
    offset=41,
)


def test_each_event_type_gets_a_snake_case_table_in_the_chirp_namespace() -> None:
    names = {table_name(event_type) for event_type in EVENT_TYPES}
    assert names == {
        "user_registered",
        "tweet_posted",
        "tweet_deleted",
        "tweet_retweeted",
        "retweet_undone",
        "user_followed",
        "user_unfollowed",
        "tweet_liked",
        "tweet_unliked",
        "media_uploaded",
        "notifications_read",
        "list_created",
        "list_renamed",
        "list_deleted",
        "list_member_added",
        "list_member_removed",
        "tweet_bookmarked",
        "bookmark_removed",
        "account_erased",
        "profile_updated",
    }
    assert event_table(TweetPosted).identifier == (NAMESPACE, "tweet_posted")


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_every_table_has_the_record_columns_and_is_partitioned_by_day(event_type: type) -> None:
    schema = event_table(event_type).schema
    assert schema.find_field("event_id").required
    assert schema.find_field("event_id").field_type == StringType()
    assert schema.find_field("occurred_at").field_type == TimestamptzType()
    assert schema.find_field("kafka_topic").field_type == StringType()
    assert schema.find_field("kafka_partition").field_type == IntegerType()
    assert schema.find_field("kafka_offset").field_type == LongType()
    assert not any(name.endswith("_ms") for name in schema.column_names)
    (partition,) = event_table(event_type).partition_spec.fields
    assert isinstance(partition.transform, DayTransform)
    assert partition.source_id == schema.find_field("occurred_at").field_id


def test_ids_are_longs_times_are_timestamps_and_tuples_are_lists() -> None:
    schema = event_table(TweetPosted).schema
    for column in ("tweet_id", "author_id"):
        assert schema.find_field(column).field_type == LongType()
        assert schema.find_field(column).required
    assert schema.find_field("created_at").field_type == TimestamptzType()
    assert not schema.find_field("reply_to").required  # int | None
    media = schema.find_field("media_ids").field_type
    assert isinstance(media, ListType) and media.element_type == LongType()
    hashtags = schema.find_field("hashtags").field_type
    assert isinstance(hashtags, ListType) and hashtags.element_type == StringType()
    location = schema.find_field("location")
    assert isinstance(location.field_type, StructType) and not location.required
    assert [f.name for f in location.field_type.fields] == ["lat", "lon"]


def test_password_hashes_never_reach_the_warehouse() -> None:
    table = event_table(UserRegistered)
    assert "password_hash" not in table.schema.column_names
    event = UserRegistered(7, "ada", "Ada", "$argon2id$secret", 1_700_000_000_000)
    assert "$argon2id$secret" not in repr(table.row(event, META))


def test_a_tweet_becomes_one_row_with_typed_values() -> None:
    event = TweetPosted(
        tweet_id=2**62 + 5,
        author_id=11,
        text="hello @bob #chirp",
        created_at_ms=1_700_000_000_456,
        reply_to=None,
        quote_of=99,
        media_ids=(1, 2),
        location=GeoPoint(lat=48.85, lon=2.35),
        hashtags=("chirp",),
        mentions=("bob",),
    )
    table = event_table(TweetPosted)
    (row,) = table.to_arrow([table.row(event, META)]).to_pylist()
    assert row == {
        "event_id": META.event_id,
        "occurred_at": datetime(2023, 11, 14, 22, 13, 20, 123_000, tzinfo=UTC),
        "correlation_id": "c0ffee",
        "tweet_id": 2**62 + 5,
        "author_id": 11,
        "text": "hello @bob #chirp",
        "created_at": datetime(2023, 11, 14, 22, 13, 20, 456_000, tzinfo=UTC),
        "reply_to": None,
        "quote_of": 99,
        "media_ids": [1, 2],
        "location": {"lat": 48.85, "lon": 2.35},
        "hashtags": ["chirp"],
        "mentions": ["bob"],
        "reply_to_author_id": None,
        "quote_of_author_id": None,
        "mentioned_user_ids": [],
        "kafka_topic": "chirp.tweets",
        "kafka_partition": 3,
        "kafka_offset": 41,
    }


def test_optional_values_become_nulls_and_the_arrow_schema_matches_the_table() -> None:
    event = TweetDeleted(5, 6, deleted_at_ms=2_000, created_at_ms=1_000)
    table = event_table(TweetDeleted)
    arrow = table.to_arrow([table.row(event, META)])
    assert arrow.schema.equals(table.schema.as_arrow())
    assert arrow.column("reply_to").to_pylist() == [None]
    assert arrow.column("hashtags").to_pylist() == [[]]
    assert arrow.schema.field("created_at").type == pa.timestamp("us", tz="UTC")


def test_a_field_type_without_a_column_type_is_a_clear_error() -> None:
    @dataclass(frozen=True)
    class Odd:
        payload: dict[str, int]

    with pytest.raises(UnsupportedFieldType, match="payload"):
        event_table(Odd)  # type: ignore[arg-type]


def test_tables_refuse_pyicebergs_rebasing_commit_retry() -> None:
    # The sink's duplicate check relies on a conflicting commit failing (sink module docstring).
    assert TABLE_PROPERTIES["commit.retry.num-retries"] == "0"


def test_columns_missing_from_an_older_table_are_found_inside_structs_too() -> None:
    point = StructType(NestedField(3, "lat", DoubleType(), required=True))
    older = StructType(NestedField(1, "id", LongType(), required=True), NestedField(2, "at", point))
    newer_point = StructType(
        NestedField(3, "lat", DoubleType(), required=True),
        NestedField(4, "lon", DoubleType(), required=True),
    )
    newer = StructType(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "at", newer_point),
        NestedField(5, "text", StringType(), required=True),
    )
    assert missing_columns(newer, older) == [
        (("at", "lon"), DoubleType()),
        (("text",), StringType()),
    ]
    assert missing_columns(older, older) == []
