"""The multi-node topology on one machine: three Kafka brokers, a 3-master Redis Cluster, two
Faust workers and two API processes (`chirp up --multi-node`, and the fault tests).

Owns how the one `Settings` turns into the topology's (bootstrap servers, replication 3 with
`min.insync.replicas` 2, the Redis Cluster's nodes, one port per API process) and the order in
which its parts start and stop. Everything it runs keeps its data under
`<var_dir>/multi-node`, apart from the single-node stack's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from kafka.errors import RetriableError, UnknownBrokerIdError

from infra.app_processes import ApiProcess, IndexerProcess, WorkerProcess
from infra.local_services import (
    LOCAL_HOST,
    KafkaCluster,
    LocalService,
    ManagedService,
    RedisCluster,
    stop_together,
)
from infra.settings import Settings, parse_ports
from infra.topics import TopicLayoutError, ensure_topics

MULTI_NODE_DIR = "multi-node"
REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2
TOPIC_RECHECK_S = 0.5
PROCESS_STOP_S = 30.0  # a worker commits and leaves its group; an API drains its requests

logger = logging.getLogger(__name__)


def multi_node_dir(settings: Settings) -> Path:
    return settings.var_dir / MULTI_NODE_DIR


def multi_node_settings(settings: Settings) -> Settings:
    """The settings every process of the topology runs with."""
    brokers = parse_ports(settings.kafka_cluster_ports, "CHIRP_KAFKA_CLUSTER_PORTS")
    redis_ports = parse_ports(settings.multi_node_redis_ports, "CHIRP_MULTI_NODE_REDIS_PORTS")
    api_ports = parse_ports(settings.multi_node_api_ports, "CHIRP_MULTI_NODE_API_PORTS")
    return Settings.model_validate(
        {
            **settings.model_dump(),
            "var_dir": multi_node_dir(settings),
            "worker_data_dir": None,
            "kafka_bootstrap": ",".join(f"{LOCAL_HOST}:{port}" for port in brokers),
            "replication_factor": REPLICATION_FACTOR,
            "min_insync_replicas": MIN_INSYNC_REPLICAS,
            "redis_cluster_nodes": ",".join(f"{LOCAL_HOST}:{port}" for port in redis_ports),
            "api_port": api_ports[0] if api_ports else settings.api_port,
            # No analytics sink in this topology (the single-node stack runs one).
            "analytics": {**settings.analytics.model_dump(), "enabled": False},
        }
    )


# What a cluster whose nodes have just registered may answer for a while: a broker that has not
# yet learnt of a topic just created reports it without partitions, and one that has not yet
# learnt of every broker names a controller it cannot connect to.
CLUSTER_SETTLING_ERRORS = (TopicLayoutError, UnknownBrokerIdError, RetriableError)


def ensure_cluster_topics(settings: Settings) -> None:
    """Create the topics on the cluster, asking again while it settles, until the startup
    timeout."""
    deadline = time.monotonic() + settings.startup_timeout_s
    while True:
        try:
            ensure_topics(settings, timeout=settings.startup_timeout_s)
            return
        except CLUSTER_SETTLING_ERRORS as error:
            if time.monotonic() >= deadline:
                raise
            logger.info("cluster still settling (%r); asking again", error)
            time.sleep(TOPIC_RECHECK_S)


class MultiNodeTopology:
    """Every part of the topology, built from the one `Settings`; nothing runs until `start()`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = multi_node_settings(settings)
        self.kafka = KafkaCluster(self.settings, min_insync_replicas=MIN_INSYNC_REPLICAS)
        self.redis = RedisCluster(self.settings)
        self.workers = tuple(
            WorkerProcess(self.settings, index=index)
            for index in range(self.settings.multi_node_workers)
        )
        self.indexer = IndexerProcess(self.settings)  # one writer of the search index
        api_ports = parse_ports(self.settings.multi_node_api_ports, "CHIRP_MULTI_NODE_API_PORTS")
        self.apis = tuple(
            ApiProcess(self.settings.model_copy(update={"api_port": port}), index=index)
            for index, port in enumerate(api_ports)
        )

    @property
    def data_dir(self) -> Path:
        return self.settings.var_dir

    def exists(self) -> bool:
        """Whether the topology ever ran here (then `chirp down` and `status` cover it)."""
        return self.data_dir.exists()

    def components(self) -> list[ManagedService]:
        """In start order; they stop in reverse."""
        workers = ProcessGroup("workers", self.workers, self.settings.startup_timeout_s)
        apis = ProcessGroup("api processes", self.apis, self.settings.startup_timeout_s)
        return [self.kafka, self.redis, workers, self.indexer, apis]

    def processes(self) -> list[LocalService]:
        """Every process of the topology, one row each in `chirp status`."""
        return [*self.kafka.nodes, *self.redis.nodes, *self.workers, self.indexer, *self.apis]

    def ensure_topics(self) -> None:
        ensure_cluster_topics(self.settings)

    def start(self) -> float:
        """Start every part, overlapping what can start together; the seconds it took."""
        started = time.monotonic()
        self.kafka.start()
        self.redis.start()
        self.kafka.wait_ready()
        self.ensure_topics()
        self.redis.wait_ready()
        processes = ProcessGroup(
            "processes", (*self.workers, self.indexer, *self.apis), PROCESS_STOP_S
        )
        processes.start()
        processes.wait_ready()
        return time.monotonic() - started

    def stop(self) -> None:
        for component in reversed(self.components()):
            component.stop()


class ProcessGroup:
    """Several processes of one kind started together and stopped together (bounded)."""

    def __init__(
        self, name: str, processes: Sequence[LocalService], stop_timeout_s: float = PROCESS_STOP_S
    ) -> None:
        self.name = name
        self.processes = tuple(processes)
        self.stop_timeout_s = stop_timeout_s

    def start(self) -> None:
        for process in self.processes:
            process.start()

    def wait_ready(self, timeout: float | None = None) -> None:
        for process in self.processes:
            process.wait_ready(timeout)

    def stop(self, timeout: float | None = None) -> None:
        stop_together(self.processes, self.stop_timeout_s if timeout is None else timeout)

    def is_running(self) -> bool:
        return all(process.is_running() for process in self.processes)
