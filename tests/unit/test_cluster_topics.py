"""`ensure_cluster_topics` asks again while a cluster settles and gives up at the startup
timeout; the admin client is replaced, no broker."""

from __future__ import annotations

import pytest
from kafka.errors import NodeNotReadyError, TopicAuthorizationFailedError, UnknownBrokerIdError

from infra import multi_node
from infra.settings import Settings
from infra.topics import TopicLayoutError


def settings(startup_timeout_s: float) -> Settings:
    return Settings.model_validate({"startup_timeout_s": startup_timeout_s})


def failing(errors: list[Exception]) -> tuple[list[int], object]:
    """An `ensure_topics` stand-in that raises `errors` in turn, then succeeds."""
    calls: list[int] = []

    def ensure_topics(_settings: Settings, timeout: float) -> list[str]:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return []

    return calls, ensure_topics


def test_a_settling_cluster_is_asked_again_until_it_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls, ensure_topics = failing(
        [UnknownBrokerIdError(3), NodeNotReadyError(2), TopicLayoutError("no partitions yet")]
    )
    monkeypatch.setattr(multi_node, "ensure_topics", ensure_topics)
    monkeypatch.setattr(multi_node, "TOPIC_RECHECK_S", 0.0)
    multi_node.ensure_cluster_topics(settings(startup_timeout_s=30.0))
    assert len(calls) == 4


def test_a_cluster_that_never_settles_fails_at_the_startup_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, ensure_topics = failing([UnknownBrokerIdError(3)] * 1000)
    monkeypatch.setattr(multi_node, "ensure_topics", ensure_topics)
    monkeypatch.setattr(multi_node, "TOPIC_RECHECK_S", 0.0)
    with pytest.raises(UnknownBrokerIdError):
        multi_node.ensure_cluster_topics(settings(startup_timeout_s=0.0))


def test_an_error_that_is_not_settling_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls, ensure_topics = failing([TopicAuthorizationFailedError("denied")])
    monkeypatch.setattr(multi_node, "ensure_topics", ensure_topics)
    with pytest.raises(TopicAuthorizationFailedError):
        multi_node.ensure_cluster_topics(settings(startup_timeout_s=30.0))
    assert len(calls) == 1
