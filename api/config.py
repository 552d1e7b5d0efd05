"""What the API needs to know about its surroundings, handed down by `infra`'s wiring.

A plain frozen dataclass: the API never reads the environment or the settings module; whoever
starts it builds one of these (`infra.wiring.api_config`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from api.rate_limits import RateLimitPolicy
from api.use_cases.ports import MediaStore
from domain.trends import HoppingWindows
from projections.redis_client import RedisFactory
from schemas.sealing import PersonalKeys


@dataclass(frozen=True, slots=True)
class ApiConfig:
    redis_factory: RedisFactory  # one Redis or a Redis Cluster, with its bound on connections
    bootstrap_servers: str  # Kafka, `host:port[,host:port...]`
    topic_prefix: str  # topics are named `<prefix>.<family>`, e.g. `chirp.tweets`
    jwt_secret: str
    jwt_ttl_s: int
    max_body_bytes: int  # larger request bodies get 413
    read_wait_default_s: float  # longest wait for a `Chirp-After` position
    recent_writes_ttl_s: float  # how long a user's reads wait for that user's latest write
    young_id_s: float  # a write naming a missing id this young waits for it, this long at most
    inactive_s: int  # home timelines unread this long have expired
    ready_max_lag_events: int  # a serving projection further behind the log: not ready, stale
    trend_windows: HoppingWindows
    media_store: MediaStore  # where uploads' bytes live (the filesystem or an S3 bucket)
    personal_keys: PersonalKeys  # each user's key for the personal fields on the log
    media_max_bytes: int  # larger uploads get 413
    media_max_pixels: int  # larger images or video frames are refused (422)
    search_index_dir: Path | None = None  # the tweet search index (its versions and pointer)
    rate_limits: RateLimitPolicy | None = None  # None: no limits
    rate_limit_storage_uri: str = ""  # `async+redis://...` or `async+redis+cluster://...`
    # Where every API process of a deployment writes its metrics (prometheus_client's
    # multiprocess mode); None: this process's own registry only.
    metrics_multiprocess_dir: Path | None = None
    stream_heartbeat_s: float = 15.0  # live streams send a comment this often when idle

    def topic(self, family: str) -> str:
        """The full name of one topic family's topic, e.g. `chirp.tweets`."""
        return f"{self.topic_prefix}.{family}"
