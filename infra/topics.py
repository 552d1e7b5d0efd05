"""Topic administration with kafka-python's admin client: create Chirp's topics, read end offsets.

Owns how the event topics are created (partitions, replication, retention) and nothing else:
it never produces or consumes records. Topic names come from `Settings.topic`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from kafka.admin import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError, for_code
from kafka.protocol.consumer import OffsetSpec
from kafka.structs import TopicPartition

from infra.settings import Settings
from schemas.log import DEAD_LETTER_FAMILY, FOLLOWS_BY_FOLLOWEE_FAMILY, TOPIC_FAMILIES

logger = logging.getLogger(__name__)

DEFAULT_ADMIN_TIMEOUT_S = 30.0


class TopicLayoutError(RuntimeError):
    """An existing topic does not have the layout the settings ask for."""


def event_topics(settings: Settings) -> list[str]:
    """The event topics, one per aggregate family, e.g. `chirp.tweets`."""
    return [settings.topic(family) for family in TOPIC_FAMILIES]


def dead_letter_topic(settings: Settings) -> str:
    """Where records that cannot be decoded or applied are parked, e.g. `chirp.deadletter`."""
    return settings.topic(DEAD_LETTER_FAMILY)


def chirp_topics(settings: Settings) -> list[str]:
    """Every topic `ensure_topics` creates (the repartition topic too: it must exist with the
    partition count of `chirp.tweets` before the worker starts)."""
    return [
        *event_topics(settings),
        dead_letter_topic(settings),
        settings.topic(FOLLOWS_BY_FOLLOWEE_FAMILY),
    ]


def topic_configs(settings: Settings) -> dict[str, str]:
    """Per-topic configs: the log is the source of truth, so it is kept forever, never compacted."""
    return {
        "min.insync.replicas": str(settings.min_insync_replicas),
        "retention.ms": "-1",
        "cleanup.policy": "delete",
    }


@contextmanager
def admin_client(settings: Settings, timeout: float = DEFAULT_ADMIN_TIMEOUT_S) -> Iterator[Any]:
    """A kafka-python admin client for `settings.bootstrap_servers`, closed on exit."""
    timeout_ms = int(timeout * 1000)
    admin = KafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        client_id="chirp-admin",
        bootstrap_timeout_ms=timeout_ms,
        request_timeout_ms=timeout_ms,
    )
    try:
        yield admin
    finally:
        admin.close()


def ensure_topics(settings: Settings, timeout: float = DEFAULT_ADMIN_TIMEOUT_S) -> list[str]:
    """Create the missing Chirp topics and wait until every partition has a leader.

    Idempotent: existing topics are kept (a concurrent creator is tolerated). Returns the names
    created by this call. Raises `TopicLayoutError` if an existing topic's partition count
    differs from `settings.topic_partitions`.
    """
    wanted = chirp_topics(settings)
    with admin_client(settings, timeout) as admin:
        existing = set(admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if missing:
            create_topics(admin, settings, missing, timeout)
        admin.wait_for_topics(wanted, timeout_ms=int(timeout * 1000))
        _check_partition_counts(admin, settings, wanted)
    return missing


def create_topics(admin: Any, settings: Settings, names: list[str], timeout: float) -> None:
    spec = {
        "num_partitions": settings.topic_partitions,
        "replication_factor": settings.replication_factor,
        "configs": topic_configs(settings),
    }
    response = admin.create_topics(
        dict.fromkeys(names, spec), timeout_ms=int(timeout * 1000), raise_errors=False
    )
    for result in response["topics"]:
        error = for_code(result["error_code"])
        if error is TopicAlreadyExistsError or result["error_code"] == 0:
            continue
        raise error(f"creating topic {result['name']} failed: {result.get('error_message')}")
    logger.info(
        "created topics %s partitions=%d replication_factor=%d",
        ",".join(names),
        settings.topic_partitions,
        settings.replication_factor,
    )


def _check_partition_counts(admin: Any, settings: Settings, names: list[str]) -> None:
    for topic in admin.describe_topics(names):
        count = len(topic["partitions"])
        if count != settings.topic_partitions:
            raise TopicLayoutError(
                f"topic {topic['name']} has {count} partitions but CHIRP_TOPIC_PARTITIONS="
                f"{settings.topic_partitions}; use the existing count or start from an empty "
                "broker (make clean)"
            )


def partitions_of(admin: Any, topics: Iterable[str]) -> list[tuple[str, int]]:
    """Every (topic, partition) of `topics`; an unknown topic raises its Kafka error."""
    found: list[tuple[str, int]] = []
    for topic in admin.describe_topics(list(topics)):
        if topic["error_code"]:
            raise for_code(topic["error_code"])(f"topic {topic['name']}")
        found.extend((topic["name"], p["partition_index"]) for p in topic["partitions"])
    return sorted(found)


def end_offsets(
    settings: Settings, topics: Iterable[str], timeout: float = DEFAULT_ADMIN_TIMEOUT_S
) -> dict[tuple[str, int], int]:
    """The next offset to be written, per (topic, partition): the log end for lag and status."""
    with admin_client(settings, timeout) as admin:
        specs = {TopicPartition(t, p): OffsetSpec.LATEST for t, p in partitions_of(admin, topics)}
        if not specs:
            return {}
        offsets = admin.list_partition_offsets(specs, timeout_ms=int(timeout * 1000))
    return {(tp.topic, tp.partition): int(found.offset) for tp, found in offsets.items()}
