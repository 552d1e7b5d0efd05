"""What the Faust worker needs to know about its surroundings, handed down by `infra`'s wiring.

A plain frozen dataclass: the worker never reads the environment or the settings module; whoever
starts it builds one of these (`infra.wiring.worker_config`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from domain.trends import HoppingWindows
from projections.redis_client import RedisFactory
from schemas.sealing import PersonalKeys


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    worker_id: str  # the Faust app id, i.e. the consumer group
    bootstrap_servers: str  # Kafka, `host:port[,host:port...]`
    data_dir: Path  # this worker's RocksDB tables
    topic_prefix: str  # topics are named `<prefix>.<family>`, e.g. `chirp.tweets`
    topic_partitions: int
    replication_factor: int
    session_timeout_s: float  # how soon a crashed worker's partitions move to others
    rocksdb_block_cache_bytes: int  # per RocksDB table partition
    redis_factory: RedisFactory  # one Redis or a Redis Cluster; each agent opens its own client
    batch_size: int  # events per Redis transaction, at most
    batch_within_s: float  # how long a batch may wait to fill
    celebrity_threshold: int  # authors with more followers are not pushed to home timelines
    trend_windows: HoppingWindows
    personal_keys: PersonalKeys  # opens the personal fields of the events it applies

    def topic(self, family: str) -> str:
        """The full name of one topic family's topic, e.g. `chirp.tweets`."""
        return f"{self.topic_prefix}.{family}"
