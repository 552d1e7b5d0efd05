"""The Faust app: configured from a `WorkerConfig`, topics, and one projection agent per family."""

from __future__ import annotations

from typing import Any

import faust

from projections.home_timelines import DEFAULT_SHARDS
from projections.registry import all_projections, projections_for_family
from schemas import EventCodec
from schemas.log import TOPIC_FAMILIES
from streams.agents import register_projection_agent
from streams.config import WorkerConfig
from streams.follow_graph import (
    TableFollowerDirectory,
    register_follow_graph_agents,
    repartition_follows,
)
from streams.heartbeat import register_heartbeat
from streams.metrics import WorkerMetrics
from streams.topics import declare_topics

METADATA_MAX_AGE_MS = 5_000  # see `consumer_metadata_max_age_ms` below


def rocksdb_table_options(config: WorkerConfig) -> dict[str, Any]:
    """Options for every RocksDB table: the default block cache is 2 GiB per partition."""
    return {"block_cache_size": config.rocksdb_block_cache_bytes}


def create_app(config: WorkerConfig, metrics: WorkerMetrics | None = None) -> faust.App:
    app = faust.App(
        config.worker_id,
        broker=f"kafka://{config.bootstrap_servers}",
        store="rocksdb://",
        datadir=str(config.data_dir),
        topic_partitions=config.topic_partitions,
        topic_replication_factor=config.replication_factor,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        # aiokafka looks a partition's offsets up at its leader as its metadata names it, and a
        # NOT_LEADER answer there (leadership moved back to a restarted broker) does not refresh
        # the metadata: only its age does. Five minutes of that is a worker stuck after a broker
        # restart; five seconds is a hiccup.
        consumer_metadata_max_age_ms=METADATA_MAX_AGE_MS,
        producer_acks=-1,
        producer_linger=0.005,  # batch dead letters, repartitioned follows, changelog writes
        broker_session_timeout=config.session_timeout_s,
        broker_heartbeat_interval=config.session_timeout_s / 5,
        web_enabled=False,
        key_serializer="raw",  # keys and values stay bytes everywhere, tables included
        value_serializer="raw",
        autodiscover=False,
    )
    topics = declare_topics(app, config)
    codec = EventCodec(keys=config.personal_keys)
    follow_edges = app.Table(
        "follow-edges",
        key_type=bytes,
        value_type=bytes,
        partitions=config.topic_partitions,
        options=rocksdb_table_options(config),
    )
    directory = TableFollowerDirectory(
        follow_edges, config.topic_partitions, config.celebrity_threshold
    )
    register_follow_graph_agents(
        app,
        by_followee=topics.follows_by_followee,
        table=follow_edges,
        codec=codec,
        redis_factory=config.redis_factory,
        directory=directory,
        home_shards=DEFAULT_SHARDS,
        batch_size=config.batch_size,
        batch_within_s=config.batch_within_s,
    )
    live_projections = all_projections(config.trend_windows, directory)
    if metrics is not None:
        metrics.count_deliveries_of(list(live_projections.values()))
    for family in TOPIC_FAMILIES:
        projections = projections_for_family(family, live_projections)
        if not projections:
            continue
        register_projection_agent(
            app,
            family=family,
            source=topics.by_family[family],
            dead_letters=topics.dead_letters,
            projections=projections,
            codec=codec,
            redis_factory=config.redis_factory,
            batch_size=config.batch_size,
            batch_within_s=config.batch_within_s,
            after_batch=(
                repartition_follows(topics.follows_by_followee) if family == "follows" else None
            ),
            metrics=metrics,
        )
    register_heartbeat(app, config.redis_factory)
    return app
