"""Readiness from one measurement: a serving projection with no positions while its topics hold
events is missing, one further behind the log than the threshold is behind, and either keeps
the API from being ready."""

from __future__ import annotations

from api.lag import LagWatch, ServingLag

TOPICS_READ = {
    "users": frozenset({"chirp.users"}),
    "tweets": frozenset({"chirp.tweets"}),
    "trends": frozenset({"chirp.tweets"}),
    "likes": frozenset({"chirp.likes"}),
}
LOG_END = {  # next offset of each partition
    "chirp.users:0": 10,
    "chirp.users:1": 5,
    "chirp.tweets:0": 100,
    "chirp.tweets:1": 0,
    "chirp.likes:0": 0,
}


def test_lag_counts_the_events_of_its_own_topics_not_applied() -> None:
    measured = ServingLag.of(
        {
            "users": {"chirp.users:0": 9, "chirp.users:1": 2},
            "tweets": {"chirp.tweets:0": 49},
            "trends": {"chirp.tweets:0": 99},
            "likes": {},
        },
        LOG_END,
        TOPICS_READ,
    )
    assert measured.lags == {"users": 2, "tweets": 50, "trends": 0, "likes": 0}
    assert measured.missing == frozenset()  # likes has no positions, but no events either
    assert measured.reasons(max_lag_events=50) == {}
    reasons = measured.reasons(max_lag_events=10)
    assert list(reasons) == ["tweets"]
    assert "tweets is 50 events behind the log (more than 10)" in reasons["tweets"]


def test_a_serving_version_with_no_positions_is_missing_whatever_the_threshold() -> None:
    measured = ServingLag.of({"users": {}, "tweets": {"chirp.tweets:0": 99}}, LOG_END, TOPICS_READ)
    assert measured.missing == frozenset({"users"})
    assert measured.lags["users"] == 15
    reasons = measured.reasons(max_lag_events=1_000)
    assert list(reasons) == ["users"]
    assert "users is missing" in reasons["users"]


def test_a_read_that_saw_a_missing_projection_apply_clears_only_its_missing() -> None:
    watch = LagWatch(services=None, max_lag_events=10)  # type: ignore[arg-type]
    measured = ServingLag.of(
        {"users": {}, "tweets": {}, "trends": {"chirp.tweets:0": 99}, "likes": {}},
        LOG_END | {"chirp.users:0": 3, "chirp.users:1": 0},
        TOPICS_READ,
    )
    watch.record(measured)
    assert watch.not_ready == {"users", "tweets"}  # users: 3 events; tweets: 100

    watch.saw_applied(["users", "tweets"])

    assert watch.not_ready == {"tweets"}  # 100 events behind: still not ready after one read
