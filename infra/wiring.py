"""From the one `Settings` to what each layer is told: the API's and the worker's configs.

The layers below `infra` never see `Settings`; these functions pick the values each needs.
Redis reaches them as a factory: `CHIRP_REDIS_CLUSTER_NODES` chooses a Redis Cluster, else the
single Redis at `redis_dsn`, and the same code runs on both.
"""

from __future__ import annotations

from functools import partial

from api.config import ApiConfig
from api.rate_limits import RateLimitPolicy
from infra.object_store import FileSystemStore, S3Store
from infra.personal_keys import FileKeys
from infra.redis_clients import SyncRedisClient, open_redis, open_sync_redis
from infra.settings import Settings
from projections.redis_client import RedisFactory
from schemas import EventCodec
from streams.config import WorkerConfig


def redis_factory(settings: Settings) -> RedisFactory:
    """Opens asyncio clients of the deployment the settings name (connecting on first use)."""
    return partial(
        open_redis,
        dsn=settings.redis_dsn,
        cluster_nodes=settings.redis_cluster_addresses,
        max_connections=settings.redis_max_connections,
    )


def sync_redis(settings: Settings, *, socket_timeout_s: float | None = None) -> SyncRedisClient:
    """A blocking client of the same deployment, for tools and tests; `close()` it."""
    return open_sync_redis(
        dsn=settings.redis_dsn,
        cluster_nodes=settings.redis_cluster_addresses,
        max_connections=settings.redis_max_connections,
        socket_timeout_s=socket_timeout_s,
    )


def media_store(settings: Settings) -> FileSystemStore | S3Store:
    """An S3 bucket when `CHIRP_MEDIA_S3_URL` is set, else the local filesystem."""
    if settings.media_s3_url:
        return S3Store(
            settings.media_s3_url,
            settings.media_s3_bucket,
            settings.media_s3_access_key,
            settings.media_s3_secret_key,
            settings.media_s3_region,
        )
    return FileSystemStore(settings.media_store_dir)


def personal_keys(settings: Settings) -> FileKeys:
    """Each user's key for the personal fields on the log, in files under the var directory."""
    return FileKeys(settings.personal_keys_path)


def event_codec(settings: Settings) -> EventCodec:
    """The codec every process of the deployment reads and writes the log with: it seals and
    opens personal fields with the deployment's keys."""
    return EventCodec(keys=personal_keys(settings))


def api_config(settings: Settings) -> ApiConfig:
    return ApiConfig(
        redis_factory=redis_factory(settings),
        bootstrap_servers=settings.bootstrap_servers,
        topic_prefix=settings.topic_prefix,
        jwt_secret=settings.jwt_secret,
        jwt_ttl_s=settings.jwt_ttl_s,
        max_body_bytes=settings.max_body_bytes,
        read_wait_default_s=settings.read_wait_default_s,
        recent_writes_ttl_s=settings.recent_writes_ttl_s,
        young_id_s=settings.young_id_s,
        inactive_s=settings.inactive_s,
        ready_max_lag_events=settings.ready_max_lag_events,
        trend_windows=settings.trend_windows(),
        media_store=media_store(settings),
        personal_keys=personal_keys(settings),
        media_max_bytes=settings.media_max_bytes,
        media_max_pixels=settings.media_max_pixels,
        search_index_dir=settings.search_index_dir,
        rate_limits=rate_limit_policy(settings),
        rate_limit_storage_uri=settings.rate_limit_storage_uri,
        stream_heartbeat_s=settings.stream_heartbeat_s,
    )


def rate_limit_policy(settings: Settings) -> RateLimitPolicy | None:
    if not settings.rate_limits_enabled:
        return None
    return RateLimitPolicy(
        default=settings.rate_limit_default,
        registrations=settings.rate_limit_registrations,
        sessions=settings.rate_limit_sessions,
        media=settings.rate_limit_media,
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
        redis_factory=redis_factory(settings),
        batch_size=settings.projection_batch_size,
        batch_within_s=settings.projection_batch_within_s,
        celebrity_threshold=settings.celebrity_threshold,
        trend_windows=settings.trend_windows(),
        personal_keys=personal_keys(settings),
    )
