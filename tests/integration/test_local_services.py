"""Local Kafka and Redis against real processes: start, answer, topics, crash, refusals."""

from __future__ import annotations

import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from kafka import KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import UnknownTopicOrPartitionError

from infra.local_services import (
    KafkaBroker,
    RedisServer,
    ServiceStartError,
    ensure_running,
    find_java,
    find_redis_server,
    free_ports,
    port_accepts,
)
from infra.settings import Settings
from infra.topics import (
    TopicLayoutError,
    admin_client,
    chirp_topics,
    create_topics,
    end_offsets,
    ensure_topics,
)

EXPECTED_TOPICS = {
    "chirp.users",
    "chirp.tweets",
    "chirp.follows",
    "chirp.likes",
    "chirp.media",
    "chirp.collections",
    "chirp.deadletter",
    "chirp.follows.by-followee",
}


def variant(settings: Settings, **changes: Any) -> Settings:
    """The test settings with some fields changed (validated, no environment read)."""
    return Settings.model_validate({**settings.model_dump(), **changes})


def own_ports(settings: Settings) -> Settings:
    """The test settings with fresh ports, for a service of the test's own."""
    kafka_port, controller_port, redis_port = free_ports(3)
    return variant(
        settings,
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        redis_port=redis_port,
    )


def redis_client(settings: Settings) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=settings.redis_port, socket_timeout=5)


@pytest.fixture
def listening_socket() -> Iterator[int]:
    """A port some other process (here: the test) is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", free_ports(1)[0]))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture
def scratch_topic(kafka: KafkaBroker, test_settings: Settings) -> Iterator[str]:
    """A topic of the test's own (4 partitions), deleted afterwards."""
    name = f"test.scratch.{uuid.uuid4().hex}"
    with admin_client(test_settings) as admin:
        create_topics(admin, test_settings, [name], timeout=30)
        admin.wait_for_topics([name], timeout_ms=30_000)
    yield name
    with admin_client(test_settings) as admin:
        admin.delete_topics([name])


# --- the session services ----------------------------------------------------------------------


def test_the_session_broker_runs_and_answers(kafka: KafkaBroker, test_settings: Settings) -> None:
    assert kafka.is_running()
    assert kafka.pid() is not None
    assert port_accepts(test_settings.kafka_port)


def test_the_session_redis_runs_and_answers(
    redis_server: RedisServer, test_settings: Settings
) -> None:
    client = redis_client(test_settings)
    try:
        assert client.ping()
        assert client.config_get("appendonly") == {"appendonly": "yes"}
    finally:
        client.close()
    assert redis_server.is_running()


def test_tests_do_not_use_the_default_ports(test_settings: Settings) -> None:
    defaults = Settings(_env_file=None)
    assert test_settings.kafka_port != defaults.kafka_port
    assert test_settings.redis_port != defaults.redis_port
    assert test_settings.environment == "test"


# --- topics ------------------------------------------------------------------------------------


def test_every_topic_exists_with_the_configured_partitions(
    kafka: KafkaBroker, test_settings: Settings
) -> None:
    with admin_client(test_settings) as admin:
        described = admin.describe_topics(chirp_topics(test_settings))

    assert {topic["name"] for topic in described} == EXPECTED_TOPICS
    for topic in described:
        assert len(topic["partitions"]) == 4, topic["name"]
        assert all(partition["leader_id"] >= 0 for partition in topic["partitions"])


def test_topics_keep_their_events_forever(kafka: KafkaBroker, test_settings: Settings) -> None:
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in EXPECTED_TOPICS]
    with admin_client(test_settings) as admin:
        configs = admin.describe_configs(resources)["topic"]

    for name in EXPECTED_TOPICS:
        values = {key: entry["value"] for key, entry in configs[name].items()}
        assert values["retention.ms"] == "-1", name
        assert values["cleanup.policy"] == "delete", name
        assert values["min.insync.replicas"] == "1", name


def test_ensuring_topics_again_creates_nothing(kafka: KafkaBroker, test_settings: Settings) -> None:
    assert ensure_topics(test_settings, timeout=30) == []
    assert ensure_topics(test_settings, timeout=30) == []


def test_creating_topics_that_already_exist_is_tolerated(
    kafka: KafkaBroker, test_settings: Settings
) -> None:
    with admin_client(test_settings) as admin:
        create_topics(admin, test_settings, chirp_topics(test_settings), timeout=30)
        described = admin.describe_topics(chirp_topics(test_settings))
    assert all(len(topic["partitions"]) == 4 for topic in described)


def test_a_different_partition_count_is_refused(
    kafka: KafkaBroker, test_settings: Settings
) -> None:
    with pytest.raises(TopicLayoutError, match="has 4 partitions but CHIRP_TOPIC_PARTITIONS=8"):
        ensure_topics(variant(test_settings, topic_partitions=8), timeout=30)


def test_end_offsets_count_the_records_of_each_partition(
    scratch_topic: str, test_settings: Settings
) -> None:
    producer = KafkaProducer(bootstrap_servers=test_settings.bootstrap_servers, acks="all")
    try:
        for _ in range(3):
            producer.send(scratch_topic, value=b"event", partition=2)
        producer.flush(timeout=30)
    finally:
        producer.close()

    assert end_offsets(test_settings, [scratch_topic]) == {
        (scratch_topic, 0): 0,
        (scratch_topic, 1): 0,
        (scratch_topic, 2): 3,
        (scratch_topic, 3): 0,
    }


def test_end_offsets_of_an_unknown_topic_is_an_error(
    kafka: KafkaBroker, test_settings: Settings
) -> None:
    with pytest.raises(UnknownTopicOrPartitionError):
        end_offsets(test_settings, ["chirp.no-such-topic"])


# --- refusing to start, with one clear line ----------------------------------------------------


def test_kafka_refuses_a_port_in_use(
    kafka: KafkaBroker, test_settings: Settings, tmp_path: Path
) -> None:
    second = KafkaBroker(test_settings, tmp_path / "kafka")

    with pytest.raises(ServiceStartError) as refused:
        second.start()

    assert str(refused.value) == (
        f"port {test_settings.kafka_port} is in use by another process; "
        "set CHIRP_KAFKA_PORT to a free port or stop that process"
    )
    assert not second.pid_file.exists()


def test_redis_refuses_a_port_in_use(
    listening_socket: int, test_settings: Settings, tmp_path: Path
) -> None:
    server = RedisServer(variant(test_settings, redis_port=listening_socket), tmp_path / "redis")

    with pytest.raises(ServiceStartError, match=f"^port {listening_socket} is in use") as refused:
        server.start()

    assert "CHIRP_REDIS_PORT" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not server.is_running()


def test_missing_kafka_jars_say_run_make_setup(test_settings: Settings, tmp_path: Path) -> None:
    settings = own_ports(variant(test_settings, kafka_libs_dir=tmp_path / "no-jars"))

    with pytest.raises(ServiceStartError, match=r"^Kafka jars missing in .*: run make setup$"):
        KafkaBroker(settings, tmp_path / "kafka").start()


def test_missing_java_says_install_openjdk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServiceStartError, match=r"^java not found: install OpenJDK 17"):
        find_java()

    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(ServiceStartError, match=r"^java not found at .*: fix JAVA_HOME"):
        find_java()


def test_missing_redis_server_says_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServiceStartError, match=r"^redis-server not found: install it"):
        find_redis_server()


def test_a_broker_that_dies_reports_the_end_of_its_log(
    test_settings: Settings, tmp_path: Path
) -> None:
    broker = KafkaBroker(own_ports(variant(test_settings, kafka_heap="1k")), tmp_path / "kafka")

    with pytest.raises(ServiceStartError) as failed:
        ensure_running(broker, timeout=60)

    message = str(failed.value)
    assert message.startswith("kafka exited during startup with code 1; last lines of ")
    assert "Too small maximum heap" in message
    assert not broker.pid_file.exists()  # nothing half-started is left behind


def test_waiting_for_a_service_never_started_fails_at_once(
    test_settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(ServiceStartError, match=r"^redis is not running"):
        RedisServer(own_ports(test_settings), tmp_path / "redis").wait_ready(timeout=60)


# --- pid files and crashes ---------------------------------------------------------------------


def test_a_stale_pid_file_is_not_running_and_start_replaces_it(
    test_settings: Settings, tmp_path: Path
) -> None:
    server = RedisServer(own_ports(test_settings), tmp_path / "redis")
    server.data_dir.mkdir(parents=True)
    exited = subprocess.Popen(["true"])
    exited.wait()
    server.pid_file.write_text(f"{exited.pid} 1\n")

    assert not server.is_running()
    ensure_running(server, timeout=30)
    try:
        assert server.is_running()
        assert server.pid() not in (None, exited.pid)
    finally:
        server.stop()
    assert not server.pid_file.exists()
    assert not server.is_running()


def test_a_pid_file_naming_someone_elses_process_is_left_alone(
    test_settings: Settings, tmp_path: Path
) -> None:
    server = RedisServer(own_ports(test_settings), tmp_path / "redis")
    server.data_dir.mkdir(parents=True)
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        server.pid_file.write_text(f"{stranger.pid} 1\n")  # a reused pid: wrong start time

        assert not server.is_running()
        server.stop()

        assert stranger.poll() is None, "stop() signalled a process that is not ours"
        assert not server.pid_file.exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_another_handle_sees_the_service_through_its_pid_file_and_stops_it(
    test_settings: Settings, tmp_path: Path
) -> None:
    settings = own_ports(test_settings)
    starter = RedisServer(settings, tmp_path / "redis")
    ensure_running(starter, timeout=30)
    try:
        other = RedisServer(settings, tmp_path / "redis")  # as `chirp down` in another shell
        assert other.is_running()
        other.start()  # already running: left alone
        assert other.pid() == starter.pid()

        other.stop()

        assert not other.is_running()
        assert not starter.is_running()
        assert not port_accepts(settings.redis_port)
    finally:
        starter.stop()


def test_killed_redis_is_not_running_and_restarts_with_its_data(
    test_settings: Settings, tmp_path: Path
) -> None:
    settings = own_ports(test_settings)
    server = RedisServer(settings, tmp_path / "redis")
    ensure_running(server, timeout=30)
    client = redis_client(settings)
    try:
        client.set("chirp:test:survivor", "yes")

        server.kill()
        assert not server.is_running()
        assert server.pid_file.exists()  # a crash leaves its pid file behind

        ensure_running(server, timeout=30)
        assert client.get("chirp:test:survivor") == b"yes"
    finally:
        client.close()
        server.stop()
    assert not server.is_running()


def test_killed_kafka_restarts_on_the_same_storage(test_settings: Settings, tmp_path: Path) -> None:
    broker = KafkaBroker(own_ports(test_settings), tmp_path / "kafka")
    ensure_running(broker, timeout=60)
    try:
        meta = (broker.log_dirs / "meta.properties").read_text()

        broker.kill()
        assert not broker.is_running()

        ensure_running(broker, timeout=60)
        assert broker.is_running()
        assert (broker.log_dirs / "meta.properties").read_text() == meta
        assert broker.cluster_id() in meta
    finally:
        broker.stop()
    assert not broker.is_running()
    assert not broker.pid_file.exists()
