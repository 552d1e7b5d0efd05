"""An erased account's rows leave every analytics table; everyone else's stay.

Events go to the real broker the way the API writes them; the sink runs as `chirp analytics
sink --once` (twice: before and after the erasure, so rows already committed must be deleted,
and a take-back consumed after the erasure must never be appended).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from domain.events import (
    AccountErased,
    TweetDeleted,
    TweetLiked,
    TweetPosted,
    UserFollowed,
    UserRegistered,
)
from infra.analytics.catalog import analytic_tables
from infra.analytics.erasure import ACCOUNT_COLUMNS
from infra.app_processes import settings_environment
from infra.local_services import KafkaBroker
from infra.settings import AnalyticsSettings, Settings
from tests.integration.test_analytics import (
    assert_tables_hold_the_log_exactly,
    event_ends,
    produce,
    query_json,
    run_sink_once,
    some_id,
)


@pytest.fixture
def env(kafka: KafkaBroker, test_settings: Settings, tmp_path: Path) -> dict[str, str]:
    """A private catalog, warehouse and consumer group for one test, as the sink's env."""
    analytics = AnalyticsSettings(
        catalog_uri=f"sqlite:///{tmp_path / 'catalog.db'}",
        warehouse=(tmp_path / "warehouse").as_uri(),
        group_id=f"analytics-erasure-{uuid.uuid4().hex[:8]}",
        batch_max_events=1000,
        batch_max_seconds=0.5,
    )
    return settings_environment(test_settings.model_copy(update={"analytics": analytics}))


def rows_naming(env: dict[str, str], user_id: int) -> dict[str, int]:
    """How many rows of each table name the account in a person column (one query: each
    `chirp analytics query` is a process start of about 5 s here)."""
    counts = []
    for spec in analytic_tables().values():
        columns = [c for c in ACCOUNT_COLUMNS if c in {f.name for f in spec.schema.fields}]
        if columns:
            where = " or ".join(f"{column} = {user_id}" for column in columns)
            table = spec.name
            counts.append(f"select '{table}' as t, count(*) as n from {table} where {where}")  # noqa: S608
    return {row["t"]: row["n"] for row in query_json(env, " union all ".join(counts))}


# It checks every table against the whole log of the session, which grows with the suite.
@pytest.mark.timeout(900)
def test_an_erased_accounts_rows_are_deleted_and_never_appended_again(
    test_settings: Settings, env: dict[str, str]
) -> None:
    ada, bob = some_id(), some_id()
    ada_tweet, bob_tweet = some_id(), some_id()
    now = int(time.time() * 1000)
    produce(
        test_settings,
        [
            UserRegistered(ada, f"a{ada % 10**9}", "Ada", "$argon2id$x", now),
            UserRegistered(bob, f"b{bob % 10**9}", "Bob", "$argon2id$x", now),
            TweetPosted(ada_tweet, ada, "mine #erase", now, hashtags=("erase",)),
            TweetPosted(bob_tweet, bob, "bob's", now),
            TweetLiked(ada_tweet, bob, now, tweet_author_id=ada),
            TweetLiked(bob_tweet, ada, now, tweet_author_id=bob),
            UserFollowed(ada, bob, now),
            UserFollowed(bob, ada, now),
        ],
    )
    run_sink_once(env)
    before = rows_naming(env, ada)
    assert before["tweet_posted"] == 1 and before["user_followed"] == 2
    assert before["tweet_liked"] == 2 and before["user_registered"] == 1

    # The erasure, then a take-back the sink reads after it (another topic).
    produce(test_settings, [AccountErased(ada, now + 1, tweets_deleted=1)])
    produce(test_settings, [TweetDeleted(ada_tweet, ada, now + 2, now)])
    run_sink_once(env)

    after = rows_naming(env, ada)
    assert after.pop("account_erased") == 1  # the lineage: ids and counts only
    assert after == dict.fromkeys(after, 0)
    bobs = query_json(env, f"select count(*) as n from tweet_posted where author_id = {bob}")  # noqa: S608
    assert bobs[0]["n"] == 1
    assert_tables_hold_the_log_exactly(env, test_settings, event_ends(test_settings))
