"""Chirp's one settings object: every tunable, read from `CHIRP_*` variables or `.env`.

Nothing else in the code base reads the environment: the wiring in `infra/` hands each layer
the values it needs. Secrets that are still their development defaults are refused outside
development. The analytics sink's settings are a nested model, `Settings.analytics`, read from
`CHIRP_ANALYTICS_*` variables.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from limits import parse as parse_limit
from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.trends import HoppingWindows

DEVELOPMENT_JWT_SECRET = "chirp-development-secret-change-me"  # noqa: S105 - refused outside development

REPO_ROOT = Path(__file__).resolve().parent.parent

ENV_PREFIX = "CHIRP_"
ANALYTICS_DIR_NAME = "analytics"
S3_SCHEMES = ("s3://", "s3a://", "s3n://")


class AnalyticsSettings(BaseModel):
    """`chirp analytics sink` and `query`: where the Iceberg catalog and warehouse live, batching.

    Read as `CHIRP_ANALYTICS_<FIELD>`. The defaults derive from `Settings.var_dir`: the SQL
    catalog on SQLite in `<var_dir>/analytics/catalog.db`, the warehouse in
    `<var_dir>/analytics/warehouse`.
    """

    enabled: bool = True  # whether `chirp up` runs the sink
    catalog_uri: str = ""  # SQLAlchemy URL; defaults to sqlite:///<var_dir>/analytics/catalog.db
    warehouse: str = ""  # file:// or s3:// URL; defaults to file://<var_dir>/analytics/warehouse
    s3_endpoint: str | None = None  # an S3-compatible server, e.g. http://127.0.0.1:9000
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str | None = None
    group_id: str = "chirp-analytics"  # the sink's Kafka consumer group
    batch_max_events: int = Field(5000, ge=1)  # records per Iceberg commit, at most
    batch_max_seconds: float = Field(2.0, gt=0)  # how long a batch may wait to fill

    def data_dir(self, var_dir: Path) -> Path:
        return var_dir.resolve() / ANALYTICS_DIR_NAME

    def catalog_url(self, var_dir: Path) -> str:
        return self.catalog_uri or f"sqlite:///{self.data_dir(var_dir) / 'catalog.db'}"

    def warehouse_url(self, var_dir: Path) -> str:
        return self.warehouse or (self.data_dir(var_dir) / "warehouse").as_uri()

    def sqlite_catalog_file(self, var_dir: Path) -> Path | None:
        """The catalog's SQLite file when the catalog is a local SQLite database."""
        url = self.catalog_url(var_dir)
        prefix = "sqlite:///"
        if not url.startswith(prefix) or url.endswith(":memory:"):
            return None
        return Path(url.removeprefix(prefix).split("?", 1)[0])

    def catalog_properties(self, var_dir: Path) -> dict[str, str]:
        """Properties for pyiceberg's `SqlCatalog`: uri, warehouse and, for S3, `s3.*`."""
        warehouse = self.warehouse_url(var_dir)
        properties = {"uri": self.catalog_url(var_dir), "warehouse": warehouse}
        if warehouse.startswith(S3_SCHEMES):
            secret = self.s3_secret_access_key
            s3 = {
                "s3.endpoint": self.s3_endpoint,
                "s3.access-key-id": self.s3_access_key_id,
                "s3.secret-access-key": secret.get_secret_value() if secret else None,
                "s3.region": self.s3_region,
            }
            properties.update({key: value for key, value in s3.items() if value})
        return properties


class Settings(BaseSettings):
    """All of Chirp's configuration; see the README for each variable."""

    # A nested model's fields are `CHIRP_<MODEL>_<FIELD>`: split once, at the first `_` after
    # the model's name, so field names keep their underscores (`CHIRP_ANALYTICS_GROUP_ID`).
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        extra="ignore",
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

    environment: Literal["development", "test", "production"] = "development"

    # Local infrastructure (`chirp up`, the test fixtures).
    var_dir: Path = REPO_ROOT / "var"
    kafka_libs_dir: Path = REPO_ROOT / ".cache" / "kafka-libs"
    kafka_host: str = "127.0.0.1"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "512m"
    redis_port: int = 6379
    startup_timeout_s: float = 60.0

    # `chirp up --multi-node`: three brokers, a 3-master Redis Cluster, workers, API processes.
    kafka_cluster_ports: str = "9192,9194,9196"  # each broker's client port
    kafka_cluster_controller_ports: str = "9193,9195,9197"  # each broker's controller port
    multi_node_redis_ports: str = "7101,7102,7103"  # the cluster's masters (bus ports +10000)
    multi_node_api_ports: str = "8000,8001"  # one API process per port
    multi_node_workers: int = Field(2, ge=1)

    # Kafka topics.
    kafka_bootstrap: str = ""  # defaults to kafka_host:kafka_port
    topic_prefix: str = "chirp"
    topic_partitions: int = Field(8, ge=1)
    replication_factor: int = Field(1, ge=1)
    min_insync_replicas: int = Field(1, ge=1)

    # Redis read models.
    redis_url: str = ""  # defaults to redis://127.0.0.1:{redis_port}/0
    redis_max_connections: int = Field(64, ge=1)  # per client (API process, worker agent)
    redis_cluster_nodes: str = ""  # host:port,host:port,...: a Redis Cluster; empty: redis_dsn

    # Faust worker.
    worker_id: str = "chirp-projections"
    worker_data_dir: Path | None = None  # defaults to var_dir / "worker"
    rocksdb_block_cache_bytes: int = 8 * 1024 * 1024
    worker_session_timeout_s: float = 10.0  # how soon a crashed worker's partitions move
    celebrity_threshold: int = Field(10_000, ge=0)  # more followers: merged at read, not pushed
    inactive_days: float = Field(30, gt=0)  # unread home timelines expire; rebuilt on next read
    trend_window_s: int = Field(300, gt=0)  # hopping windows: size ...
    trend_step_s: int = Field(60, gt=0)  # ... and step (the size must be a multiple of it)
    trend_baseline_s: int = Field(3600, gt=0)  # the past a trend's score compares against
    projection_batch_size: int = 500
    # How long an agent gathers events into a batch (Faust's take window). Each batch has fixed
    # costs (reading pointers and positions, committing them); a backlog of follows went at
    # 411/s with 0.01, 497/s with 0.05 and 534/s with 0.1 (2,000 users, 57,625 follows),
    # while a lone event waits at most the window before it is applied.
    projection_batch_within_s: float = Field(0.05, gt=0)
    # The worker's Prometheus /metrics (the n-th worker of a deployment: this port + n); 0: none.
    worker_metrics_port: int = Field(9464, ge=0, lt=65536)

    # HTTP API.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = 1
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    jwt_ttl_s: int = 3600
    max_body_bytes: int = 64 * 1024
    # Media uploads: bytes allowed on POST /v1/media, pixels per image or video frame (more is
    # refused as a decompression bomb), and where the filesystem object store keeps them.
    media_max_bytes: int = Field(16 * 1024 * 1024, gt=0)
    media_max_pixels: int = Field(40_000_000, gt=0)
    # Chirp's own log lines at this level and above (JSON on stderr; libraries at WARNING).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Live streams: an idle connection gets a comment line this often (proxies close silent ones).
    stream_heartbeat_s: float = Field(15.0, gt=0)
    media_dir: Path | None = None  # defaults to var_dir / "media"
    # Each user's key for the personal fields on the log (crypto-shredding; docs/erasure.md).
    personal_keys_dir: Path | None = None  # defaults to var_dir / "keys"
    # Set to an S3 endpoint (e.g. http://127.0.0.1:7070) to keep uploads in a bucket instead.
    media_s3_url: str = ""
    media_s3_bucket: str = "chirp-media"
    media_s3_access_key: str = ""
    media_s3_secret_key: str = ""
    media_s3_region: str = "us-east-1"
    read_wait_default_s: float = 2.0
    recent_writes_ttl_s: float = Field(10.0, gt=0)  # a user's reads wait for their own writes
    young_id_s: float = Field(10.0, ge=0)  # missing ids this young are waited for, not 404
    # A serving projection further behind the log: /readyz 503, reads marked Chirp-Stale.
    ready_max_lag_events: int = Field(10_000, ge=0)
    # Rate limits per user (per client address when anonymous), `limits` notation, a moving
    # window in Redis shared by every API process; Mastodon-like defaults.
    rate_limits_enabled: bool = True
    rate_limit_default: str = "300/5minutes"
    rate_limit_registrations: str = "5/30minutes"  # POST /v1/users
    rate_limit_sessions: str = "25/5minutes"  # POST /v1/sessions
    rate_limit_media: str = "30/30minutes"  # POST /v1/media

    # Analytics sink (`CHIRP_ANALYTICS_*`).
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment != "development" and self.jwt_secret == DEVELOPMENT_JWT_SECRET:
            raise ValueError("CHIRP_JWT_SECRET must be set outside development")
        if self.trend_window_s % self.trend_step_s:
            raise ValueError("CHIRP_TREND_WINDOW_S must be a multiple of CHIRP_TREND_STEP_S")
        if self.min_insync_replicas > self.replication_factor:
            raise ValueError("CHIRP_MIN_INSYNC_REPLICAS cannot exceed CHIRP_REPLICATION_FACTOR")
        return self

    @model_validator(mode="after")
    def _check_rate_limits(self) -> Settings:
        for name in ("default", "registrations", "sessions", "media"):
            try:
                parse_limit(getattr(self, f"rate_limit_{name}"))
            except ValueError as error:
                raise ValueError(f"CHIRP_RATE_LIMIT_{name.upper()}: {error}") from None
        return self

    @model_validator(mode="after")
    def _check_redis_cluster_nodes(self) -> Settings:
        parse_host_ports(self.redis_cluster_nodes, "CHIRP_REDIS_CLUSTER_NODES")
        return self

    @model_validator(mode="after")
    def _check_multi_node_ports(self) -> Settings:
        brokers = parse_ports(self.kafka_cluster_ports, "CHIRP_KAFKA_CLUSTER_PORTS")
        controllers = parse_ports(
            self.kafka_cluster_controller_ports, "CHIRP_KAFKA_CLUSTER_CONTROLLER_PORTS"
        )
        if len(brokers) != len(controllers):
            raise ValueError(
                "CHIRP_KAFKA_CLUSTER_PORTS and CHIRP_KAFKA_CLUSTER_CONTROLLER_PORTS "
                "must name as many ports each"
            )
        parse_ports(self.multi_node_redis_ports, "CHIRP_MULTI_NODE_REDIS_PORTS")
        parse_ports(self.multi_node_api_ports, "CHIRP_MULTI_NODE_API_PORTS")
        return self

    @cached_property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap or f"{self.kafka_host}:{self.kafka_port}"

    @cached_property
    def redis_dsn(self) -> str:
        return self.redis_url or f"redis://127.0.0.1:{self.redis_port}/0"

    @cached_property
    def redis_cluster_addresses(self) -> tuple[tuple[str, int], ...]:
        """The Redis Cluster's startup nodes as (host, port); empty for a single Redis."""
        return parse_host_ports(self.redis_cluster_nodes, "CHIRP_REDIS_CLUSTER_NODES")

    @cached_property
    def rate_limit_storage_uri(self) -> str:
        """Where the rate limits count: the same Redis (or Cluster) as the read models."""
        if self.redis_cluster_addresses:
            nodes = ",".join(f"{host}:{port}" for host, port in self.redis_cluster_addresses)
            return f"async+redis+cluster://{nodes}"
        return f"async+{self.redis_dsn}"

    @cached_property
    def media_store_dir(self) -> Path:
        return self.media_dir or self.var_dir / "media"

    @cached_property
    def personal_keys_path(self) -> Path:
        return self.personal_keys_dir or self.var_dir / "keys"

    @cached_property
    def worker_dir(self) -> Path:
        return self.worker_data_dir or self.var_dir / "worker"

    @cached_property
    def search_index_dir(self) -> Path:
        """The tweet search index: its versions and the pointer to the serving one."""
        return self.var_dir / "search"

    def trend_windows(self) -> HoppingWindows:
        return HoppingWindows(
            self.trend_window_s * 1000, self.trend_step_s * 1000, self.trend_baseline_s * 1000
        )

    @property
    def inactive_s(self) -> int:
        return int(self.inactive_days * 86_400)

    def topic(self, family: str) -> str:
        """The full name of one aggregate family's topic, e.g. `chirp.tweets`."""
        return f"{self.topic_prefix}.{family}"

    def environment_variables(self) -> dict[str, str]:
        """The `CHIRP_*` variables that give a child process these exact settings."""
        return _variables(ENV_PREFIX, self)


def _variables(prefix: str, model: BaseModel) -> dict[str, str]:
    env: dict[str, str] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        variable = f"{prefix}{name.upper()}"
        if isinstance(value, BaseModel):
            env.update(_variables(f"{variable}_", value))
        elif isinstance(value, SecretStr):
            env[variable] = value.get_secret_value()
        elif value is not None:
            env[variable] = str(value)
    return env


def parse_host_ports(text: str, variable: str) -> tuple[tuple[str, int], ...]:
    """`host:port,host:port` as (host, port) pairs; blank entries are skipped."""
    addresses = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{variable}: {entry!r} is not host:port")
        addresses.append((host, int(port)))
    return tuple(addresses)


def parse_ports(text: str, variable: str) -> tuple[int, ...]:
    """`port,port,...` as ports; blank entries are skipped."""
    ports = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        if not entry.isdigit() or not 0 < int(entry) < 65536:
            raise ValueError(f"{variable}: {entry!r} is not a port")
        ports.append(int(entry))
    return tuple(ports)
