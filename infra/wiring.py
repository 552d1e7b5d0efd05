"""From the one `Settings` to what each layer is told: the API's and the worker's configs.

The layers below `infra` never see `Settings`; these functions pick the values each needs.
"""

from __future__ import annotations

from api.config import ApiConfig
from infra.settings import Settings
from streams.config import WorkerConfig


def api_config(settings: Settings) -> ApiConfig:
    return ApiConfig(
        redis_dsn=settings.redis_dsn,
        redis_max_connections=settings.redis_max_connections,
        bootstrap_servers=settings.bootstrap_servers,
        topic_prefix=settings.topic_prefix,
        jwt_secret=settings.jwt_secret,
        jwt_ttl_s=settings.jwt_ttl_s,
        max_body_bytes=settings.max_body_bytes,
        read_wait_default_s=settings.read_wait_default_s,
        celebrity_threshold=settings.celebrity_threshold,
        inactive_s=settings.inactive_s,
        trend_windows=settings.trend_windows(),
    )


def worker_config(settings: Settings) -> WorkerConfig:
    return WorkerConfig(
        worker_id=settings.worker_id,
        bootstrap_servers=settings.bootstrap_servers,
        data_dir=settings.worker_dir,
        topic_prefix=settings.topic_prefix,
        topic_partitions=settings.topic_partitions,
        replication_factor=settings.replication_factor,
        session_timeout_s=settings.worker_session_timeout_s,
        rocksdb_block_cache_bytes=settings.rocksdb_block_cache_bytes,
        redis_dsn=settings.redis_dsn,
        batch_size=settings.projection_batch_size,
        batch_within_s=settings.projection_batch_within_s,
        celebrity_threshold=settings.celebrity_threshold,
        trend_windows=settings.trend_windows(),
    )
