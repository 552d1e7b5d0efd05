"""The Faust app: configuration from settings, topics, and one projection agent per family."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import faust
from redis.asyncio import Redis

from projections.registry import all_projections, projections_for_family
from schemas import EventCodec
from schemas.log import TOPIC_FAMILIES
from streams.agents import register_projection_agent
from streams.follow_graph import (
    TableFollowerDirectory,
    register_follow_graph_agents,
)
from streams.heartbeat import register_heartbeat
from streams.topics import declare_topics

if TYPE_CHECKING:
    from infra.settings import Settings


def rocksdb_table_options(settings: Settings) -> dict[str, Any]:
    """Options for every RocksDB table: the default block cache is 2 GiB per partition."""
    return {"block_cache_size": settings.rocksdb_block_cache_bytes}


def create_app(settings: Settings) -> faust.App:
    app = faust.App(
        settings.worker_id,
        broker=f"kafka://{settings.bootstrap_servers}",
        store="rocksdb://",
        datadir=str(settings.worker_dir),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.replication_factor,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger=0.005,  # batch dead letters, repartitioned follows, changelog writes
        broker_session_timeout=settings.worker_session_timeout_s,
        broker_heartbeat_interval=settings.worker_session_timeout_s / 5,
        web_enabled=False,
        key_serializer="raw",  # keys and values stay bytes everywhere, tables included
        value_serializer="raw",
        autodiscover=False,
    )
    topics = declare_topics(app, settings)
    codec = EventCodec()
    follow_edges = app.Table(
        "follow-edges",
        key_type=bytes,
        value_type=bytes,
        partitions=settings.topic_partitions,
        options=rocksdb_table_options(settings),
    )
    register_follow_graph_agents(
        app,
        follows=topics.by_family["follows"],
        by_followee=topics.follows_by_followee,
        table=follow_edges,
        codec=codec,
        redis_dsn=settings.redis_dsn,
        batch_size=settings.projection_batch_size,
        batch_within_s=settings.projection_batch_within_s,
    )
    directory = TableFollowerDirectory(
        follow_edges, settings.topic_partitions, settings.celebrity_threshold
    )
    live_projections = all_projections(settings.trend_windows(), directory)
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
            redis_factory=lambda: Redis.from_url(settings.redis_dsn),
            batch_size=settings.projection_batch_size,
            batch_within_s=settings.projection_batch_within_s,
        )
    register_heartbeat(app, settings.redis_dsn)
    return app
