"""Session fixtures: a private Kafka broker, Redis server and Redis Cluster, started on request.

They listen on free ports chosen at session start and keep their data in pytest's temporary
directory, so a developer's `chirp up` on the default ports is never disturbed. Nothing is
started unless a test requests `kafka`, `redis_server` or `redis_cluster`: unit tests stay
process-free.

A test that asks for `stack` runs twice: against the single-Redis stack (`worker`,
`api_server`) and against a second one on the same broker whose worker and API use the Redis
Cluster (`cluster_stack`, with topics, consumer group and data of its own), started once per
session and only when such a test runs.

`multi_node` is the multi-node topology of the fault tests (three brokers, a Redis Cluster, two
workers, two API processes), likewise started once, on first request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from redis import Redis

from infra.app_processes import ApiProcess, IndexerProcess, WorkerProcess
from infra.local_services import (
    CLUSTER_BUS_PORT_OFFSET,
    KafkaBroker,
    ManagedService,
    RedisCluster,
    RedisServer,
    ServiceStartError,
    ensure_running,
    free_cluster_ports,
    free_ports,
)
from infra.multi_node import MultiNodeTopology
from infra.settings import Settings
from infra.topics import ensure_topics
from infra.wiring import sync_redis
from tests.support.client import ChirpClient
from tests.support.faults import ensure_whole
from tests.support.stacks import RunningStack, Stack

TEST_JWT_SECRET = "chirp-test-secret-not-for-production"
CELEBRITY_THRESHOLD = 5
CLUSTER_TOPIC_PREFIX = "chirpc"
CLUSTER_WORKER_ID = "chirp-projections-cluster"
MULTI_NODE_STARTUP_TIMEOUT_S = 180.0  # three JVMs, two workers and two APIs on two cores
SESSION_RATE_LIMITS = {
    f"rate_limit_{family}": "10000/second"
    for family in ("default", "registrations", "sessions", "media")
}


@pytest.fixture(scope="session")
def test_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the test session: private ports and data directory, 4 partitions."""
    kafka_port, controller_port, redis_port, api_port, metrics_port = free_ports(5)
    return Settings(
        _env_file=None,  # a developer's .env must not leak into the tests
        environment="test",
        jwt_secret=TEST_JWT_SECRET,
        var_dir=tmp_path_factory.mktemp("chirp-var"),
        worker_data_dir=None,
        kafka_bootstrap="",
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        redis_url="",
        redis_port=redis_port,
        api_port=api_port,
        topic_prefix="chirp",
        topic_partitions=4,
        replication_factor=1,
        min_insync_replicas=1,
        # Low, so a test can make a celebrity with a handful of followers.
        celebrity_threshold=CELEBRITY_THRESHOLD,
        # Every test talks from 127.0.0.1, often as one user: limits no test reaches (the
        # rate-limit tests start APIs of their own with tight ones).
        **SESSION_RATE_LIMITS,
        worker_metrics_port=metrics_port,
    )


@pytest.fixture(scope="session")
def kafka(test_settings: Settings) -> Iterator[KafkaBroker]:
    """A running single-node Kafka broker with Chirp's topics created."""
    broker = KafkaBroker(test_settings)
    with _running(broker, test_settings):
        ensure_topics(test_settings, timeout=test_settings.startup_timeout_s)
        yield broker


@pytest.fixture(scope="session")
def redis_server(test_settings: Settings) -> Iterator[RedisServer]:
    """A running Redis server (append-only persistence) on the test port."""
    server = RedisServer(test_settings)
    with _running(server, test_settings):
        yield server


@pytest.fixture(scope="session")
def redis_cluster(test_settings: Settings) -> Iterator[RedisCluster]:
    """A running 3-master Redis Cluster (no replicas) on ports of its own."""
    nodes = ",".join(f"127.0.0.1:{port}" for port in free_cluster_ports(3))
    settings = Settings.model_validate({**test_settings.model_dump(), "redis_cluster_nodes": nodes})
    cluster = RedisCluster(settings)
    with _running(cluster, settings):
        yield cluster


@contextmanager
def _running(service: ManagedService, settings: Settings) -> Iterator[None]:
    """Run `service` for the block; a start failure fails the requesting tests with its reason."""
    try:
        try:
            ensure_running(service, settings.startup_timeout_s)
        except ServiceStartError as exc:
            pytest.fail(f"could not start {service.name} for the tests: {exc}", pytrace=False)
        yield
    finally:
        service.stop()


@pytest.fixture(scope="session")
def worker(
    kafka: KafkaBroker, redis_server: RedisServer, test_settings: Settings
) -> Iterator[WorkerProcess]:
    """A Faust worker running every projection agent against the test broker and Redis."""
    process = WorkerProcess(test_settings)
    with _running(process, test_settings):
        yield process


@pytest.fixture(scope="session")
def api_server(
    kafka: KafkaBroker, redis_server: RedisServer, test_settings: Settings
) -> Iterator[ApiProcess]:
    """The HTTP API (uvicorn) on a private port."""
    process = ApiProcess(test_settings)
    with _running(process, test_settings):
        yield process


@pytest.fixture(scope="session")
def indexer(kafka: KafkaBroker, test_settings: Settings) -> Iterator[IndexerProcess]:
    """The search indexer: the one writer of the tweet search index the API reads."""
    process = IndexerProcess(test_settings)
    with _running(process, test_settings):
        yield process


@pytest.fixture
def client(
    api_server: ApiProcess, worker: WorkerProcess, indexer: IndexerProcess
) -> Iterator[ChirpClient]:
    """An HTTP client for the running stack (API, worker and search indexer)."""
    http = ChirpClient(api_server.url)
    yield http
    http.close()


@pytest.fixture
def redis_client(redis_server: RedisServer, test_settings: Settings) -> Iterator[Redis]:
    with Redis.from_url(test_settings.redis_dsn) as connection:
        yield connection


@pytest.fixture(scope="session")
def single_stack(
    api_server: ApiProcess, worker: WorkerProcess, indexer: IndexerProcess, test_settings: Settings
) -> RunningStack:
    return RunningStack(test_settings, api_server.url)


@pytest.fixture(scope="session")
def cluster_stack(
    kafka: KafkaBroker,
    redis_cluster: RedisCluster,
    test_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningStack]:
    """A worker and an API on the Redis Cluster, beside the single-Redis stack on one broker."""
    taken = {test_settings.api_port, test_settings.kafka_port, test_settings.redis_port}
    api_port = next(port for port in free_ports(4) if port not in taken)
    settings = Settings.model_validate(
        {
            **test_settings.model_dump(),
            "var_dir": tmp_path_factory.mktemp("chirp-cluster-var"),
            "redis_cluster_nodes": redis_cluster.nodes_setting,
            "topic_prefix": CLUSTER_TOPIC_PREFIX,
            "worker_id": CLUSTER_WORKER_ID,
            "api_port": api_port,
            "worker_metrics_port": 0,  # the session worker's port is the metrics tests'
        }
    )
    ensure_topics(settings, timeout=settings.startup_timeout_s)
    worker, api = WorkerProcess(settings), ApiProcess(settings)
    api.start()  # boots while the worker joins its consumer group
    try:
        with (
            _running(worker, settings),
            _running(IndexerProcess(settings), settings),
            _running(api, settings),
        ):
            yield RunningStack(settings, api.url)
    finally:
        api.stop()


@pytest.fixture(params=["single", "cluster"])
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The test runs once per deployment: a single Redis, then a Redis Cluster."""
    running: RunningStack = request.getfixturevalue(f"{request.param}_stack")
    http = ChirpClient(running.api_url)
    redis = sync_redis(running.settings)
    try:
        yield Stack(request.param, running.settings, http, redis)
    finally:
        http.close()
        redis.close()


@pytest.fixture(scope="session")
def multi_node(
    test_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MultiNodeTopology]:
    """Three brokers, a 3-master Redis Cluster, two workers and two API processes, on ports and
    in a directory of their own: started once per session, only when a test asks for it."""
    redis_ports = free_cluster_ports(3)
    taken = {
        test_settings.kafka_port,
        test_settings.kafka_controller_port,
        test_settings.redis_port,
        test_settings.api_port,
        *redis_ports,
        *(port + CLUSTER_BUS_PORT_OFFSET for port in redis_ports),
    }
    ports = [port for port in free_ports(16) if port not in taken][:8]
    settings = Settings.model_validate(
        {
            **test_settings.model_dump(),
            "var_dir": tmp_path_factory.mktemp("chirp-multi-node"),
            "kafka_cluster_ports": ",".join(map(str, ports[:3])),
            "kafka_cluster_controller_ports": ",".join(map(str, ports[3:6])),
            "multi_node_api_ports": ",".join(map(str, ports[6:8])),
            "multi_node_redis_ports": ",".join(map(str, redis_ports)),
            "multi_node_workers": 2,
            "startup_timeout_s": MULTI_NODE_STARTUP_TIMEOUT_S,
            "worker_metrics_port": 0,  # the session worker's port is the metrics tests'
            "ready_max_lag_events": 0,  # not ready while a projection lags at all (faults)
        }
    )
    topology = MultiNodeTopology(settings)
    try:
        try:
            topology.start()
        except ServiceStartError as exc:
            pytest.fail(f"could not start the multi-node topology: {exc}", pytrace=False)
        yield topology
    finally:
        topology.stop()


@pytest.fixture
def topology(multi_node: MultiNodeTopology) -> Iterator[MultiNodeTopology]:
    """The session's multi-node topology, whole before the test and after it."""
    ensure_whole(multi_node)
    yield multi_node
    ensure_whole(multi_node)
