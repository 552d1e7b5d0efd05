"""The analytics sink puts every event of the log into its Iceberg table exactly once.

Events come from the API (the real producer path) and straight from a producer with the codec
(volume); the sink runs as `chirp analytics sink` subprocesses, the tables are read back with
`chirp analytics query`. The checks compare each table with an independent read of the log:
every decodable record of that type, once, nothing else, whatever the sink went through
(SIGKILL mid-batch, a crash between the Iceberg and the Kafka commit, restarts).
"""

from __future__ import annotations

import json
import random
import re
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import closing
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from pyiceberg.schema import Schema

from domain.commands import GeoPoint
from domain.events import (
    AccountErased,
    Event,
    RetweetUndone,
    TweetDeleted,
    TweetLiked,
    TweetPosted,
    TweetRetweeted,
    TweetUnliked,
    UserFollowed,
    UserRegistered,
    UserUnfollowed,
)
from infra.analytics.batch import PendingBatch
from infra.analytics.catalog import analytic_tables, ensure_tables, open_catalog
from infra.analytics.erasure import concerns
from infra.analytics.process import AnalyticsSinkProcess
from infra.analytics.sink import AnalyticsSink, IcebergWriter, read_status, sink_lag
from infra.analytics.tables import RecordMeta
from infra.app_processes import settings_environment
from infra.local_services import KafkaBroker
from infra.settings import AnalyticsSettings, Settings
from infra.topics import end_offsets, event_topics
from infra.wiring import event_codec
from schemas import EventDecodeError, spec_of
from schemas.envelope import Envelope
from tests.support.client import ChirpClient
from tests.support.waiting import wait_for

TABLES = sorted(spec.name for spec in analytic_tables().values())
TABLE_OF = {spec.event_type: spec.name for spec in analytic_tables().values()}
CLI_TIMEOUT_S = 240

Coordinate = tuple[str, int, int]  # topic, partition, offset


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
def analytics(tmp_path: Path) -> AnalyticsSettings:
    """A private catalog, warehouse and consumer group for one test."""
    return AnalyticsSettings(
        catalog_uri=f"sqlite:///{tmp_path / 'catalog.db'}",
        warehouse=(tmp_path / "warehouse").as_uri(),
        group_id=f"analytics-test-{uuid.uuid4().hex[:8]}",
        batch_max_events=1000,
        batch_max_seconds=0.5,
    )


@pytest.fixture
def sink_settings(test_settings: Settings, analytics: AnalyticsSettings) -> Settings:
    """The session's settings with this test's analytics settings."""
    return test_settings.model_copy(update={"analytics": analytics})


@pytest.fixture
def env(sink_settings: Settings) -> dict[str, str]:
    return settings_environment(sink_settings)


def chirp_analytics(
    env: dict[str, str], *args: str, timeout: float = CLI_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.analytics.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_sink_once(env: dict[str, str]) -> str:
    result = chirp_analytics(env, "sink", "--once")
    assert result.returncode == 0, result.stderr
    return result.stdout


def query_json(env: dict[str, str], sql: str) -> list[dict[str, Any]]:
    result = chirp_analytics(env, "query", "--format", "json", sql)
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def table_coordinates(env: dict[str, str]) -> dict[str, list[tuple[Coordinate, str]]]:
    """Every row of every table as ((topic, partition, offset), event id), duplicates kept."""
    sql = " union all ".join(
        f"select '{name}' as t, kafka_topic, kafka_partition, kafka_offset, event_id from {name}"  # noqa: S608
        for name in TABLES
    )
    found: dict[str, list[tuple[Coordinate, str]]] = {name: [] for name in TABLES}
    for row in query_json(env, sql):
        coordinate = (row["kafka_topic"], row["kafka_partition"], row["kafka_offset"])
        found[row["t"]].append((coordinate, row["event_id"]))
    return found


def log_coordinates(
    settings: Settings, ends: dict[tuple[str, int], int]
) -> dict[str, set[tuple[Coordinate, str]]]:
    """What each table should hold: every decodable record below `ends`, by event type, but
    the records of accounts erased below `ends` (their rows are deleted)."""
    codec = event_codec(settings)
    expected: dict[str, set[tuple[Coordinate, str]]] = {name: set() for name in TABLES}
    decoded: list[tuple[Event, Coordinate, str]] = []
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(t, p) for (t, p), end in ends.items() if end > 0]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        while any(consumer.position(tp) < ends[(tp.topic, tp.partition)] for tp in partitions):
            for tp, records in consumer.poll(timeout_ms=500).items():
                for record in records:
                    if record.offset >= ends[(tp.topic, tp.partition)]:
                        continue
                    try:
                        event = codec.decode(record.value)
                    except EventDecodeError:
                        continue
                    event_id = dict(record.headers)["chirp-event-id"].decode()
                    coordinate = (record.topic, record.partition, record.offset)
                    decoded.append((event, coordinate, event_id))
    finally:
        consumer.close()
    erased = {event.user_id for event, _, _ in decoded if isinstance(event, AccountErased)}
    for event, coordinate, event_id in decoded:
        if isinstance(event, AccountErased) or not concerns(asdict(event), erased):
            expected[TABLE_OF[type(event)]].add((coordinate, event_id))
    return expected


def assert_tables_hold_the_log_exactly(
    env: dict[str, str], settings: Settings, ends: dict[tuple[str, int], int]
) -> dict[str, list[tuple[Coordinate, str]]]:
    """Each table == its records of the log below `ends`: none missing, none twice, no other."""
    tables = table_coordinates(env)
    expected = log_coordinates(settings, ends)
    for name in TABLES:
        below = [row for row in tables[name] if row[0][2] < ends[row[0][:2]]]
        twice = [row for row, count in Counter(below).items() if count > 1]
        assert not twice, f"{name}: {len(twice)} rows twice, e.g. {twice[:3]}"
        assert set(below) == expected[name], (
            f"{name}: {len(expected[name] - set(below))} missing, "
            f"{len(set(below) - expected[name])} unexpected"
        )
    return tables


def event_ends(settings: Settings) -> dict[tuple[str, int], int]:
    return end_offsets(settings, event_topics(settings))


@dataclass(frozen=True)
class Produced:
    event: Event
    event_id: str


def produce(settings: Settings, events: list[Event]) -> list[Produced]:
    """Each event as the API would write it (codec, key, headers), acknowledged by the broker."""
    codec = event_codec(settings)
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=20)
    produced: list[Produced] = []
    try:
        for event in events:
            spec = spec_of(event)
            envelope = Envelope.new(spec.schema_name, int(time.time() * 1000), None)
            producer.send(
                settings.topic(spec.family),
                key=spec.record_key(event),
                value=codec.encode(event),
                headers=envelope.headers(),
            )
            produced.append(Produced(event, envelope.event_id))
        producer.flush(timeout=60)
    finally:
        producer.close()
    return produced


def some_id() -> int:
    return random.getrandbits(63)


def events_of_every_type(count: int, now_ms: int) -> list[Event]:
    """`count` events of each of the nine types, with every kind of field value."""
    events: list[Event] = []
    for i in range(count):
        author, user, tweet = some_id(), some_id(), some_id()
        at = now_ms - i * 60_000
        events += [
            UserRegistered(author, f"a{secrets.token_hex(5)}", f"Author {i}", "$argon2id$x", at),
            TweetPosted(
                tweet,
                author,
                f"tweet {i} #tag{i % 3} @bob",
                at,
                reply_to=some_id() if i % 2 else None,
                media_ids=(some_id(), some_id()) if i % 3 == 0 else (),
                location=GeoPoint(lat=48.0 + i / 100, lon=2.0) if i % 2 == 0 else None,
                hashtags=(f"tag{i % 3}",),
                mentions=("bob",),
            ),
            TweetRetweeted(some_id(), tweet, user, at + 1),
            RetweetUndone(tweet, user, at + 2),
            TweetDeleted(tweet, author, at + 3, at, hashtags=(f"tag{i % 3}",)),
            UserFollowed(user, author, at + 4),
            UserUnfollowed(user, author, at + 5),
            TweetLiked(tweet, user, at + 6),
            TweetUnliked(tweet, user, at + 7),
        ]
    return events


# --- the tests ---------------------------------------------------------------------------------


def test_every_event_lands_once_in_its_typed_table(
    client: ChirpClient, test_settings: Settings, sink_settings: Settings, env: dict[str, str]
) -> None:
    # Through the API: all nine event types, with the API's own headers.
    ada, bob = client.register(), client.register()
    tweet = client.tweet(ada, "analytics #iceberg @" + bob.handle)
    for path in (f"/v1/tweets/{tweet['id']}/like", f"/v1/tweets/{tweet['id']}/retweet"):
        assert client.put(path, bob).status_code == 204
        assert client.delete(path, bob).status_code == 204
    client.follow(bob, ada)
    client.unfollow(bob, ada)
    assert client.delete(f"/v1/tweets/{tweet['id']}", ada).status_code == 204
    # Straight from a producer: volume and every kind of field value.
    now_ms = int(time.time() * 1000)
    produced = produce(test_settings, events_of_every_type(40, now_ms))
    ends = event_ends(test_settings)
    assert sink_lag(sink_settings) == sum(ends.values())

    summary = run_sink_once(env)

    assert "undecodable" in summary
    assert sink_lag(sink_settings) == 0
    tables = assert_tables_hold_the_log_exactly(env, test_settings, ends)
    ids = {name: {event_id for _, event_id in rows} for name, rows in tables.items()}
    for item in produced:
        assert item.event_id in ids[TABLE_OF[type(item.event)]]
    # Values, typed: ids as 64-bit integers, times as timestamps, lists, structs.
    posted = {item.event_id: item.event for item in produced if isinstance(item.event, TweetPosted)}
    rows = query_json(
        env,
        "select event_id, tweet_id, author_id, text, epoch_ms(created_at) as created_ms, "
        "reply_to, media_ids, location, hashtags, mentions, typeof(tweet_id) as id_type, "
        "typeof(created_at) as time_type from chirp.tweet_posted",
    )
    by_id = {row["event_id"]: row for row in rows}
    for event_id, event in posted.items():
        row = by_id[event_id]
        assert (row["tweet_id"], row["author_id"], row["text"]) == (
            event.tweet_id,
            event.author_id,
            event.text,
        )
        assert row["created_ms"] == event.created_at_ms
        assert row["reply_to"] == event.reply_to
        assert row["media_ids"] == list(event.media_ids)
        assert row["hashtags"] == list(event.hashtags) and row["mentions"] == ["bob"]
        expected_location = (
            None
            if event.location is None
            else {"lat": event.location.lat, "lon": event.location.lon}
        )
        assert row["location"] == expected_location
        assert (row["id_type"], row["time_type"]) == ("BIGINT", "TIMESTAMP WITH TIME ZONE")
    api_tweet = by_id[next(r["event_id"] for r in rows if str(r["tweet_id"]) == tweet["id"])]
    assert api_tweet["hashtags"] == ["iceberg"]
    # No secrets in the warehouse; a second run finds nothing new.
    registered = query_json(env, "select * from user_registered limit 1")
    assert "password_hash" not in registered[0]
    assert "0 records" in run_sink_once(env)
    assert_tables_hold_the_log_exactly(env, test_settings, ends)


def committed_metadata(catalog_db: Path) -> frozenset[tuple[str, str]]:
    """Each table's current metadata file in the SQL catalog: it changes at each commit."""
    try:
        with closing(sqlite3.connect(f"file:{catalog_db}?mode=ro", uri=True, timeout=0.1)) as db:
            rows = db.execute("select table_name, metadata_location from iceberg_tables")
            return frozenset(rows.fetchall())
    except sqlite3.Error:  # not created yet, or locked by the commit in progress
        return frozenset()


def test_sigkill_mid_batch_and_restarts_leave_no_duplicates_and_no_gaps(
    kafka: KafkaBroker,
    test_settings: Settings,
    sink_settings: Settings,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    produce(test_settings, events_of_every_type(2500, int(time.time() * 1000)))  # 22,500
    ends = event_ends(test_settings)
    catalog_db = tmp_path / "catalog.db"
    # A killed member holds its partitions until its session expires: keep that short (the
    # broker's minimum is 6 s).
    fast_failover = sink_settings.model_copy(update={"worker_session_timeout_s": 6.0})
    sink = AnalyticsSinkProcess(fast_failover, data_dir=tmp_path / "run")
    kills = 0
    try:
        for _ in range(3):
            sink.start()
            sink.wait_ready()
            # SIGKILL right after one table's commit of a batch landed (the catalog's pointer
            # moved): before the batch's other tables and its Kafka offset commit, the window
            # that must repeat nothing.
            seen = committed_metadata(catalog_db)
            wait_for(
                lambda: committed_metadata(catalog_db) - seen or not sink.is_running(),  # noqa: B023
                timeout_s=60,
                what="an Iceberg commit",
                every_s=0.001,
            )
            if not sink.is_running():
                break  # drained everything already
            sink.kill()
            kills += 1
    finally:
        if sink.is_running():  # a failed wait must not leave the sink running after the test
            sink.kill()
    assert kills >= 1

    summary = run_sink_once({**env, "CHIRP_WORKER_SESSION_TIMEOUT_S": "6.0"})

    assert_tables_hold_the_log_exactly(env, test_settings, ends)
    assert sink_lag(sink_settings) == 0
    # The kills did land between an Iceberg and a Kafka commit: a restart re-read rows it held.
    log = sink.log_file.read_text()
    held_again = sum(int(n) for n in re.findall(r"duplicates=(\d+)", log))
    held_again += int(re.search(r"\(([\d,]+) already held", summary)[1].replace(",", ""))  # type: ignore[index]
    assert held_again > 0, log


class SimulatedCrash(Exception):
    """Stands for a SIGKILL at an exact instruction."""


@pytest.mark.parametrize(
    "tables_committed", [1, 3, None], ids=["after-1-table", "after-3-tables", "after-all-tables"]
)
def test_a_crash_between_iceberg_and_kafka_commits_repeats_nothing(
    kafka: KafkaBroker,
    test_settings: Settings,
    sink_settings: Settings,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tables_committed: int | None,
) -> None:
    """Deterministic: the first batch reaches some or all tables, never Kafka; then a restart."""
    produce(test_settings, events_of_every_type(100, int(time.time() * 1000)))
    ends = event_ends(test_settings)
    commit_table = IcebergWriter._commit_table
    calls = 0

    def crash_after_some_tables(self: IcebergWriter, *args: Any) -> int:
        nonlocal calls
        if tables_committed is not None and calls >= tables_committed:
            raise SimulatedCrash
        calls += 1
        return commit_table(self, *args)

    def crash_before_kafka(self: AnalyticsSink, *args: Any) -> None:
        raise SimulatedCrash

    with monkeypatch.context() as patch:
        patch.setattr(IcebergWriter, "_commit_table", crash_after_some_tables)
        patch.setattr(AnalyticsSink, "_commit_kafka", crash_before_kafka)
        with pytest.raises(SimulatedCrash):
            AnalyticsSink(sink_settings).run(threading.Event(), once=True)
    assert calls >= 1
    held_before = sum(len(rows) for rows in table_coordinates(env).values())
    assert held_before > 0

    stats = AnalyticsSink(sink_settings).run(threading.Event(), once=True)

    assert stats.duplicates == held_before  # re-delivered and recognised, not appended twice
    assert_tables_hold_the_log_exactly(env, test_settings, ends)


def test_the_sink_process_is_ready_once_joined_and_stops_cleanly_on_sigterm(
    kafka: KafkaBroker, test_settings: Settings, sink_settings: Settings, tmp_path: Path
) -> None:
    sink = AnalyticsSinkProcess(sink_settings, data_dir=tmp_path / "run")
    sink.start()
    try:
        sink.wait_ready()
        status = read_status(sink.status_file)
        assert status is not None and status["pid"] == sink.pid()
        assert len(status["partitions"]) == len(event_topics(test_settings)) * 4
    finally:
        sink.stop(timeout=30)
    status = read_status(sink.status_file)
    assert status is not None and status["state"] == "stopped"
    assert "Traceback" not in sink.log_file.read_text()


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("selec count(*) from tweet_posted", "Parser Error"),
        ("select count(*) from tweets", "analytics tables:"),
        ("select no_such_column from tweet_posted", "Binder Error"),
    ],
)
def test_invalid_sql_is_one_clear_line_and_exit_code_2(
    env: dict[str, str], sql: str, says: str
) -> None:
    result = chirp_analytics(env, "query", sql)
    assert result.returncode == 2
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stdout + result.stderr


def test_queries_before_the_first_sink_run_see_empty_tables(env: dict[str, str]) -> None:
    result = chirp_analytics(env, "query", "select count(*) as n from chirp.tweet_liked")
    assert result.returncode == 0, result.stderr
    assert "0" in result.stdout and "1 row" in result.stdout


def test_two_writers_on_one_table_never_append_the_same_record_twice(
    analytics: AnalyticsSettings, tmp_path: Path
) -> None:
    """A writer with a stale view of the table fails its commit, re-reads, and drops what the
    other wrote: the duplicate check holds against concurrent sinks, not only after restarts."""
    spec = analytic_tables()[TweetLiked]
    first = IcebergWriter(ensure_tables(open_catalog(analytics, tmp_path), [spec]), "a")
    second = IcebergWriter(ensure_tables(open_catalog(analytics, tmp_path), [spec]), "b")

    def batch(offsets: range) -> PendingBatch:
        pending = PendingBatch()
        for offset in offsets:
            meta = RecordMeta(f"e{offset}", 1_700_000_000_000, None, "chirp.likes", 2, offset)
            pending.add_row(spec.name, spec.row(TweetLiked(offset, 1, 1), meta))
        return pending

    specs = {spec.name: spec}
    assert first.commit(batch(range(10)), specs) == (10, 0)
    assert second.commit(batch(range(10)), specs) == (0, 10)  # stale handle: refreshed, dropped
    assert second.commit(batch(range(5, 15)), specs) == (5, 5)
    assert first.commit(batch(range(12, 20)), specs) == (5, 3)

    table = open_catalog(analytics, tmp_path).load_table(spec.identifier)
    offsets = sorted(
        table.scan(selected_fields=("kafka_offset",)).to_arrow()["kafka_offset"].to_pylist()
    )
    assert offsets == list(range(20))
    assert table.properties["chirp.sink.offset.chirp.likes.2"] == "20"


def test_a_field_added_to_an_event_becomes_a_new_column_at_the_next_start(
    analytics: AnalyticsSettings, tmp_path: Path
) -> None:
    spec = analytic_tables()[TweetLiked]
    before = replace(spec, schema=Schema(*(f for f in spec.schema.fields if f.name != "liked_at")))
    catalog = open_catalog(analytics, tmp_path)
    ensure_tables(catalog, [before])

    tables = ensure_tables(catalog, [spec])  # the sink starting with the newer event class

    column = tables[spec.name].schema().find_field("liked_at")
    assert not column.required  # rows written before the field existed have no value
    pending = PendingBatch()
    meta = RecordMeta("e1", 1_700_000_000_000, None, "chirp.likes", 0, 0)
    pending.add_row(spec.name, spec.row(TweetLiked(1, 2, 1_700_000_000_999), meta))
    assert IcebergWriter(tables, "g").commit(pending, {spec.name: spec}) == (1, 0)
    (liked_at,) = tables[spec.name].scan().to_arrow()["liked_at"].to_pylist()
    assert liked_at.timestamp() == 1_700_000_000.999
