"""SQL over Arrow tables with DuckDB: names, UTC, one-line errors, no access outside the tables."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from domain.events import TweetLiked, TweetPosted
from infra.analytics.query import QueryError, referenced_tables, run_query
from infra.analytics.tables import RecordMeta, event_table
from infra.settings import AnalyticsSettings, Settings

POSTED = event_table(TweetPosted)
LIKED = event_table(TweetLiked)


def tweets(*texts: str) -> dict[str, pa.Table]:
    rows = [
        POSTED.row(
            TweetPosted(i + 1, 7, text, 1_700_000_000_000 + i * 3_600_000, hashtags=("x",)),
            RecordMeta(f"e{i}", 1_700_000_000_000 + i * 3_600_000, None, "chirp.tweets", 0, i),
        )
        for i, text in enumerate(texts)
    ]
    return {"tweet_posted": POSTED.to_arrow(rows), "tweet_liked": LIKED.empty()}


def test_tables_answer_by_plain_and_namespaced_names_in_utc() -> None:
    result = run_query(
        "select strftime(date_trunc('hour', a.created_at), '%Y-%m-%d %H:%M %Z') as hour, "
        "count(*) as n from chirp.tweet_posted a join tweet_posted b using (event_id) "
        "group by 1 order by 1",
        tweets("a", "b"),
    )
    assert result.columns == ["hour", "n"]
    assert result.rows == [("2023-11-14 22:00 UTC", 1), ("2023-11-14 23:00 UTC", 1)]


def test_ctes_joined_with_using_work() -> None:
    # DuckDB's get_table_names fails to bind this valid query; the sink's own lookup must not.
    sql = (
        "with likes as (select tweet_id, count(*) as n from tweet_liked group by tweet_id) "
        "select p.text, coalesce(l.n, 0) as likes "
        "from tweet_posted p left join likes l using (tweet_id)"
    )
    assert referenced_tables(sql, {"tweet_posted": POSTED, "tweet_liked": LIKED}) == [
        LIKED,
        POSTED,
    ]
    assert run_query(sql, tweets("a")).rows == [("a", 0)]


def test_an_empty_table_reads_as_zero_rows() -> None:
    assert run_query("select count(*) from tweet_liked", tweets()).rows == [(0,)]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("selec 1", "Parser Error"),
        ("select nope from tweet_posted", "Binder Error"),
        (
            "select * from tweets",
            "analytics tables: account_erased, bookmark_removed, list_created",
        ),
        ("select count(*) from tweet_posted; selec", "Parser Error"),
    ],
)
def test_bad_sql_is_one_clear_line(sql: str, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        run_query(sql, tweets("a"))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_queries_cannot_touch_files_or_change_that(tmp_path: Path) -> None:
    target = tmp_path / "leak.csv"
    for sql in (
        f"copy tweet_posted to '{target}'",
        "select * from read_csv('" + str(Path(__file__)) + "')",  # noqa: S608
        "set enable_external_access = true",
    ):
        with pytest.raises(QueryError):
            run_query(sql, tweets("a"))
    assert not target.exists()


def test_only_the_tables_a_query_names_are_loaded() -> None:
    known = {"tweet_posted": POSTED, "tweet_liked": LIKED}
    sql = "with x as (select 1) select * from x, chirp.TWEET_POSTED, other, tweet_postedx"
    assert referenced_tables(sql, known) == [POSTED]
    assert referenced_tables("selec", known) == []


def test_default_locations_derive_from_var_dir_and_s3_settings_apply_to_s3_only(
    tmp_path: Path,
) -> None:
    local = AnalyticsSettings(s3_endpoint="http://127.0.0.1:9000")
    properties = local.catalog_properties(tmp_path)
    assert properties == {
        "uri": f"sqlite:///{tmp_path.resolve()}/analytics/catalog.db",
        "warehouse": f"file://{tmp_path.resolve()}/analytics/warehouse",
    }
    remote = AnalyticsSettings(
        warehouse="s3://bucket/chirp",
        s3_endpoint="http://127.0.0.1:9000",
        s3_access_key_id="key",
        s3_secret_access_key="secret",
    )
    assert remote.catalog_properties(tmp_path)["s3.secret-access-key"] == "secret"
    assert remote.catalog_properties(tmp_path)["s3.endpoint"] == "http://127.0.0.1:9000"
    assert "s3.region" not in remote.catalog_properties(tmp_path)


def test_a_child_process_environment_reproduces_the_nested_analytics_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configured = Settings(
        _env_file=None,
        topic_prefix="other",
        analytics=AnalyticsSettings(
            warehouse="s3://bucket/chirp",
            s3_secret_access_key="secret",
            group_id="g1",
            batch_max_events=10,
            enabled=False,
        ),
    )
    env = configured.environment_variables()
    assert env["CHIRP_ANALYTICS_S3_SECRET_ACCESS_KEY"] == "secret"
    assert env["CHIRP_ANALYTICS_GROUP_ID"] == "g1"
    assert "CHIRP_ANALYTICS_S3_REGION" not in env  # None: left unset, not "None"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings(_env_file=None) == configured
