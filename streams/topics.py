"""Every topic the worker reads or writes, declared once.

Keys are the aggregate id as ASCII decimal bytes and values Avro single-object encoded
events: both pass through Faust untouched (raw serializers), and `schemas` decodes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TopicT

from schemas.log import DEAD_LETTER_FAMILY, FOLLOWS_BY_FOLLOWEE_FAMILY, TOPIC_FAMILIES
from streams.config import WorkerConfig


@dataclass(frozen=True, slots=True)
class ChirpTopics:
    by_family: dict[str, TopicT]
    dead_letters: TopicT
    follows_by_followee: TopicT


def declare_topics(app: faust.App, config: WorkerConfig) -> ChirpTopics:
    def raw_topic(family: str) -> TopicT:
        return app.topic(
            config.topic(family),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=config.topic_partitions,
            replicas=config.replication_factor,
        )

    return ChirpTopics(
        by_family={family: raw_topic(family) for family in TOPIC_FAMILIES},
        dead_letters=raw_topic(DEAD_LETTER_FAMILY),
        follows_by_followee=raw_topic(FOLLOWS_BY_FOLLOWEE_FAMILY),
    )
