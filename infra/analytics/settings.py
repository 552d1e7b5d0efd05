"""The analytics sink's settings: where the Iceberg catalog and warehouse live, how it batches.

A small pydantic-settings class of its own (env prefix `CHIRP_ANALYTICS_`, `.env` supported) next
to Chirp's one `Settings`, whose `var_dir` supplies the defaults: the SQL catalog on SQLite in
`<var_dir>/analytics/catalog.db`, the warehouse in `<var_dir>/analytics/warehouse`. Nothing else
in the analytics package reads the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ANALYTICS_ENV_PREFIX = "CHIRP_ANALYTICS_"
ANALYTICS_DIR_NAME = "analytics"
S3_SCHEMES = ("s3://", "s3a://", "s3n://")


class AnalyticsSettings(BaseSettings):
    """Configuration of `chirp analytics sink` and `chirp analytics query`."""

    model_config = SettingsConfigDict(
        env_prefix=ANALYTICS_ENV_PREFIX, env_file=".env", extra="ignore"
    )

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

    def environment(self) -> dict[str, str]:
        """`CHIRP_ANALYTICS_*` variables that give a child process these exact settings."""
        env: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[f"{ANALYTICS_ENV_PREFIX}{name.upper()}"] = str(value)
        return env
