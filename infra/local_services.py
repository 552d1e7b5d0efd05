"""Local Kafka (KRaft, from jars, one node or a cluster), Redis and a Redis Cluster; no Docker.

Owns each service's data directory: generated config, pid file, log file, data. A service is
spawned detached in its own session, so a Ctrl-C aimed at its parent does not reach it and
`stop()` decides how it ends. This module never talks to a remote cluster and never creates
topics (that is `infra.topics`).
"""

from __future__ import annotations

import base64
import contextlib
import errno
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import redis
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from infra.settings import Settings, parse_ports

logger = logging.getLogger(__name__)

LOCAL_HOST = "127.0.0.1"
LOCAL_HOSTS = (LOCAL_HOST, "localhost")
LOG_TAIL_LINES = 20
POLL_INTERVAL_S = 0.1
KAFKA_NODE_ID = 1
FORMAT_TIMEOUT_S = 120.0
KILL_WAIT_S = 10.0
EPHEMERAL_PORTS_START = 32768  # Linux's default ip_local_port_range starts here
CLUSTER_BUS_PORT_OFFSET = 10000  # a cluster node's bus listens on its port + 10000
MIN_CLUSTER_MASTERS = 3  # what `redis-cli --cluster create` accepts
MIN_KAFKA_CLUSTER_NODES = 3  # a quorum that survives one node down
KAFKA_CLUSTER_STOP_S = 20.0

# The broker logs at INFO per partition, per request and a 300-line config dump at startup:
# everything is WARN except the few loggers that tell the lifecycle (started, signal, shutdown).
QUIET_KAFKA_LOGGERS = ("kafka", "org.apache.kafka", "org.apache.zookeeper", "state.change.logger")
LIFECYCLE_KAFKA_LOGGERS = (
    "kafka.server.KafkaRaftServer",
    "kafka.server.BrokerLifecycleManager",
    "org.apache.kafka.common.utils.LoggingSignalHandler",
)
BROKER_JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


class ServiceStartError(RuntimeError):
    """A local service could not start; the first line says why and what to do."""


@dataclass(frozen=True)
class PidRecord:
    """A process identity: the pid plus its start time, so a reused pid is not mistaken for ours."""

    pid: int
    start_ticks: int | None

    def render(self) -> str:
        return f"{self.pid} {self.start_ticks if self.start_ticks is not None else '-'}\n"

    @classmethod
    def parse(cls, text: str) -> PidRecord | None:
        fields = text.split()
        if not fields or not fields[0].isdigit():
            return None
        ticks = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
        return cls(int(fields[0]), ticks)


# --- binaries ---------------------------------------------------------------------------------


def find_java(java_home: str | None = None) -> Path:
    """The `java` binary: `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` on PATH."""
    # JAVA_HOME is the JVM's own convention, not a Chirp setting, hence read here.
    home = java_home if java_home is not None else os.environ.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        if os.access(java, os.X_OK):
            return java
        raise ServiceStartError(f"java not found at {java}: fix JAVA_HOME or install OpenJDK 17")
    found = shutil.which("java")
    if found is None:
        raise ServiceStartError(
            "java not found: install OpenJDK 17 (apt-get install openjdk-17-jre-headless) "
            "or set JAVA_HOME"
        )
    return Path(found)


def kafka_classpath(libs_dir: Path) -> str:
    """The broker's classpath (a wildcard over the jars `make setup` copied into `libs_dir`)."""
    if not any(libs_dir.glob("kafka_2.13-*.jar")):
        raise ServiceStartError(f"Kafka jars missing in {libs_dir}: run make setup")
    return str(libs_dir / "*")


def find_redis_server() -> Path:
    """The `redis-server` binary on PATH."""
    found = shutil.which("redis-server")
    if found is None:
        raise ServiceStartError(
            "redis-server not found: install it (apt-get install redis-server) or run make setup"
        )
    return Path(found)


def find_redis_cli() -> Path:
    """The `redis-cli` binary on PATH (Debian's redis-tools, installed with redis-server)."""
    found = shutil.which("redis-cli")
    if found is None:
        raise ServiceStartError(
            "redis-cli not found: install it (apt-get install redis-tools) or run make setup"
        )
    return Path(found)


# --- processes and ports -----------------------------------------------------------------------


def process_start_ticks(pid: int) -> int | None:
    """The process start time in clock ticks since boot (Linux /proc), or None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 2 (comm) may contain spaces and parentheses: split after its closing one.
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[19]) if len(fields) > 19 else None


def _has_exited(pid: int) -> bool:
    """Whether `pid` is a zombie whose threads have all exited (only then are its ports free).

    A multi-threaded process's main thread turns zombie first; its files, listening sockets
    included, close only when the last thread is gone.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        threads = sum(1 for _ in Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].startswith("Z") and threads <= 1


def process_matches(record: PidRecord) -> bool:
    """Whether the process in `record` is alive and is the very process that was recorded."""
    try:
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # alive, but another user's: not ours
    if _has_exited(record.pid):
        return False
    return record.start_ticks is None or process_start_ticks(record.pid) == record.start_ticks


def port_problem(port: int) -> str | None:
    """Why `port` cannot be bound on the loopback interface, or None when it is free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOCAL_HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} is in use by another process"
            return f"port {port} cannot be bound ({exc.strerror})"
    return None


def free_ports(count: int, low: int = 20000, high: int = 32000) -> list[int]:
    """`count` distinct free loopback ports from [low, high).

    The default range sits below Linux's ephemeral range (32768+), so a client connection made
    between choosing a port and the server binding it cannot take it.
    """
    candidates = random.sample(range(low, high), k=min(high - low, 200 + count))
    chosen = [port for port in candidates if port_problem(port) is None][:count]
    if len(chosen) < count:
        raise ServiceStartError(f"no {count} free ports found in {low}-{high}")
    return chosen


def port_accepts(port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on the loopback `port`."""
    try:
        with socket.create_connection((LOCAL_HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the process group we created for `pid` (its session), else just the process."""
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _tail(path: Path, offset: int, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines written to `path` after byte `offset`."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# --- the common lifecycle --------------------------------------------------------------------


class LocalService(ABC):
    """One local server process: start, wait until it answers, stop; state kept in `data_dir`."""

    name: str = "service"

    def __init__(self, settings: Settings, data_dir: Path) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self._child: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def pid_file(self) -> Path:
        return self.data_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / f"{self.name}.log"

    # Hooks for each service.

    @abstractmethod
    def _ports(self) -> dict[int, str]:
        """The ports the service binds, each with the variable that moves it."""

    @abstractmethod
    def _prepare(self) -> list[str]:
        """Check binaries, write config, initialise storage; return the command to run."""

    @abstractmethod
    def _answers(self) -> bool:
        """One readiness probe: does the service answer a real request?"""

    def _environment(self) -> dict[str, str] | None:
        """The child's environment; None inherits ours."""
        return None

    # Lifecycle.

    def start(self) -> None:
        """Spawn the service detached and return at once; a running instance is left alone."""
        if self.is_running():
            logger.info("%s already running pid=%s", self.name, self.pid())
            return
        self._check_ports()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._spawn(self._prepare())

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the service answers; `ServiceStartError` with its log tail otherwise."""
        budget = self.settings.startup_timeout_s if timeout is None else timeout
        started = time.monotonic()
        deadline = started + budget
        while True:
            if not self.is_running():
                raise self._failure(self._not_running_reason())
            if self._answers():
                logger.info("%s ready in %.1fs", self.name, time.monotonic() - started)
                return
            if time.monotonic() >= deadline:
                raise self._failure(f"{self.name} did not answer within {budget:.0f}s")
            time.sleep(POLL_INTERVAL_S)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, wait up to `timeout`, then SIGKILL; the pid file is removed either way."""
        record = self._read_pid_file()
        if record is not None and self._matches(record):
            _signal_group(record.pid, signal.SIGTERM)
            if not self._wait_exit(record, timeout):
                logger.warning(
                    "%s pid=%d ignored SIGTERM for %.0fs: killing", self.name, record.pid, timeout
                )
                _signal_group(record.pid, signal.SIGKILL)
                self._wait_exit(record, KILL_WAIT_S)
            logger.info("%s stopped pid=%d", self.name, record.pid)
        self.pid_file.unlink(missing_ok=True)
        self._child = None

    def kill(self) -> None:
        """SIGKILL without any shutdown, like a crash; the pid file stays behind, stale."""
        record = self._read_pid_file()
        if record is None or not self._matches(record):
            return
        _signal_group(record.pid, signal.SIGKILL)
        if not self._wait_exit(record, KILL_WAIT_S):
            raise RuntimeError(f"{self.name} pid={record.pid} survived SIGKILL")
        logger.info("%s killed pid=%d", self.name, record.pid)

    def is_running(self) -> bool:
        """Whether the pid file names a live process that is the one we started."""
        record = self._read_pid_file()
        return record is not None and self._matches(record)

    def pid(self) -> int | None:
        """The recorded pid when the service is running."""
        record = self._read_pid_file()
        return record.pid if record is not None and self._matches(record) else None

    # Internals.

    def _check_ports(self) -> None:
        for port, variable in self._ports().items():
            problem = port_problem(port)
            if problem is not None:
                raise ServiceStartError(
                    f"{problem}; set {variable} to a free port or stop that process"
                )

    def _spawn(self, command: list[str]) -> None:
        self._log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        with self.log_file.open("ab") as log:
            log.write(f"--- chirp: starting {self.name} at {time.ctime()} ---\n".encode())
            log.flush()
            self._child = subprocess.Popen(
                command,
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._environment(),
                start_new_session=True,
            )
        pid = self._child.pid
        self.pid_file.write_text(PidRecord(pid, process_start_ticks(pid)).render())
        logger.info("%s started pid=%d log=%s", self.name, pid, self.log_file)

    def _matches(self, record: PidRecord) -> bool:
        if self._child is not None and self._child.pid == record.pid:
            return self._child.poll() is None  # exact, and keeps the exit code for errors
        return process_matches(record)

    def _read_pid_file(self) -> PidRecord | None:
        try:
            return PidRecord.parse(self.pid_file.read_text())
        except OSError:
            return None

    def _wait_exit(self, record: PidRecord, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._matches(record):
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_INTERVAL_S)
        return True

    def _not_running_reason(self) -> str:
        if self._child is None:
            return f"{self.name} is not running"
        return f"{self.name} exited during startup with code {self._child.poll()}"

    def _failure(self, reason: str) -> ServiceStartError:
        tail = _tail(self.log_file, self._log_offset)
        return ServiceStartError(f"{reason}; last lines of {self.log_file}:\n{tail}")


# --- Kafka -------------------------------------------------------------------------------------


class KafkaBroker(LocalService):
    """A single-node KRaft broker (combined broker and controller) run from the Maven jars."""

    name = "kafka"

    def __init__(self, settings: Settings, data_dir: Path | None = None) -> None:
        super().__init__(settings, data_dir or settings.var_dir / "kafka")

    @property
    def log_dirs(self) -> Path:
        return self.data_dir / "data"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log4j_file(self) -> Path:
        return self.data_dir / "log4j.properties"

    @property
    def cluster_id_file(self) -> Path:
        return self.data_dir / "cluster.id"

    @property
    def port(self) -> int:
        return self.settings.kafka_port

    @property
    def controller_port(self) -> int:
        return self.settings.kafka_controller_port

    @property
    def node_id(self) -> int:
        return KAFKA_NODE_ID

    @property
    def quorum_voters(self) -> str:
        """`controller.quorum.voters`: this node alone."""
        return f"{self.node_id}@{LOCAL_HOST}:{self.controller_port}"

    @property
    def bootstrap_servers(self) -> str:
        return f"{LOCAL_HOST}:{self.port}"

    def _ports(self) -> dict[int, str]:
        return {
            self.port: "CHIRP_KAFKA_PORT",
            self.controller_port: "CHIRP_KAFKA_CONTROLLER_PORT",
        }

    def _prepare(self) -> list[str]:
        java = find_java()
        classpath = kafka_classpath(self.settings.kafka_libs_dir)
        self.config_file.write_text(self._server_properties())
        self.log4j_file.write_text(self._log4j_properties())
        self._format_storage_once(java, classpath)
        heap = [f"-Xmx{self.settings.kafka_heap}"]
        return self._java(
            java, classpath, [*heap, *BROKER_JVM_FLAGS], "kafka.Kafka", str(self.config_file)
        )

    def _java(
        self, java: Path, classpath: str, flags: list[str], main: str, *args: str
    ) -> list[str]:
        log4j = [
            f"-Dlog4j.configuration={self.log4j_file.as_uri()}",
            f"-Dkafka.logs.dir={self.data_dir}",
        ]
        return [str(java), *flags, *log4j, "-cp", classpath, main, *args]

    def _answers(self) -> bool:
        if not port_accepts(self.port):
            return False
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap_servers,
                client_id="chirp-readiness",
                bootstrap_timeout_ms=5000,
                request_timeout_ms=5000,
            )
        except KafkaError:
            return False
        try:
            brokers = admin.describe_cluster().get("brokers") or []
        except KafkaError:
            return False
        finally:
            admin.close()
        # This node registered and unfenced (a restarted node is fenced until it caught up).
        return any(
            broker.get("broker_id") == self.node_id and not broker.get("is_fenced", False)
            for broker in brokers
        )

    def cluster_id(self) -> str:
        """This broker's cluster id, created once and kept next to the data."""
        if self.cluster_id_file.exists():
            return self.cluster_id_file.read_text().strip()
        cluster_id = _new_cluster_id()
        self.cluster_id_file.write_text(cluster_id + "\n")
        return cluster_id

    def _format_storage_once(self, java: Path, classpath: str) -> None:
        if (self.log_dirs / "meta.properties").exists():
            return
        logger.info("formatting kafka storage in %s", self.log_dirs)
        flags = ["-Xmx256m", "-XX:TieredStopAtLevel=1"]  # a short-lived tool: start fast
        format_args = ("format", "-t", self.cluster_id(), "-c", str(self.config_file))
        command = self._java(java, classpath, flags, "kafka.tools.StorageTool", *format_args)
        _run_tool(command, "formatting kafka storage", FORMAT_TIMEOUT_S)

    def _server_properties(self) -> str:
        return "".join(f"{key}={value}\n" for key, value in self._properties().items())

    def _properties(self) -> dict[str, str]:
        port, controller_port = self.port, self.controller_port
        return {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            "controller.quorum.voters": self.quorum_voters,
            "listeners": f"PLAINTEXT://{LOCAL_HOST}:{port},CONTROLLER://{LOCAL_HOST}:{controller_port}",
            "advertised.listeners": f"PLAINTEXT://{LOCAL_HOST}:{port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.log_dirs),
            "num.partitions": str(self.settings.topic_partitions),
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            # One broker: the internal topics cannot have more replicas than that (pitfall 7).
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # After a crash the restarted broker waits out its old registration's session:
            # keep that short for a local broker (defaults 2 s heartbeat, 9 s session).
            "broker.heartbeat.interval.ms": "500",
            "broker.session.timeout.ms": "3000",
            # Topics are created deliberately by `infra.topics`, never by a typo'd producer.
            "auto.create.topics.enable": "false",
        }

    def _log4j_properties(self) -> str:
        lines = [
            "log4j.rootLogger=INFO, file",
            "log4j.appender.file=org.apache.log4j.RollingFileAppender",
            f"log4j.appender.file.File={self.log_file}",
            "log4j.appender.file.Append=true",
            "log4j.appender.file.MaxFileSize=50MB",
            "log4j.appender.file.MaxBackupIndex=2",
            "log4j.appender.file.layout=org.apache.log4j.PatternLayout",
            "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n",
            *(f"log4j.logger.{name}=WARN" for name in QUIET_KAFKA_LOGGERS),
            *(f"log4j.logger.{name}=INFO" for name in LIFECYCLE_KAFKA_LOGGERS),
        ]
        return "\n".join(lines) + "\n"


def _run_tool(command: list[str], what: str, timeout: float) -> None:
    """Run a short-lived command; `ServiceStartError` with its output if it fails."""
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ServiceStartError(f"{what} took over {timeout:.0f}s") from exc
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).splitlines()[-LOG_TAIL_LINES:])
        raise ServiceStartError(f"{what} failed (code {result.returncode}):\n{output}")
    logger.debug("%s: %s", what, result.stdout.strip())


def _new_cluster_id() -> str:
    """A Kafka cluster id: a random UUID as 22 characters of URL-safe base64 (as Kafka's Uuid)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka avoids ids that look like a command-line flag
            return text


def stop_together(services: Sequence[LocalService], timeout: float) -> None:
    """Stop several services at once: SIGTERM to each, SIGKILL to those alive after `timeout`.

    One after another, each would wait out its own timeout while it waits for the others.
    """
    running = [(service, service._read_pid_file()) for service in services]
    signalled = [(s, r) for s, r in running if r is not None and s._matches(r)]
    for _, record in signalled:
        _signal_group(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for service, record in signalled:
        if not service._wait_exit(record, max(deadline - time.monotonic(), 0.0)):
            logger.warning("%s pid=%d ignored SIGTERM: killing", service.name, record.pid)
            _signal_group(record.pid, signal.SIGKILL)
            service._wait_exit(record, KILL_WAIT_S)
        logger.info("%s stopped pid=%d", service.name, record.pid)
    for service in services:
        service.stop(KILL_WAIT_S)  # removes the pid files; kills anything left


# --- a Kafka cluster ---------------------------------------------------------------------------


class KafkaClusterNode(KafkaBroker):
    """One node of a local KRaft cluster: broker and controller, its own ports and `data_dir`.

    Every node names all the controllers (`controller.quorum.voters`) and is formatted with
    the cluster's one id, kept in the cluster's directory.
    """

    def __init__(
        self, cluster: KafkaCluster, node_id: int, port: int, controller_port: int
    ) -> None:
        super().__init__(cluster.settings, cluster.data_dir / f"node-{node_id}")
        self.cluster = cluster
        self.name = f"kafka-{node_id}"
        self._node_id, self._port, self._controller_port = node_id, port, controller_port

    @property
    def port(self) -> int:
        return self._port

    @property
    def controller_port(self) -> int:
        return self._controller_port

    @property
    def node_id(self) -> int:
        return self._node_id

    @property
    def quorum_voters(self) -> str:
        return self.cluster.quorum_voters

    @property
    def cluster_id_file(self) -> Path:
        return self.cluster.data_dir / "cluster.id"

    def _ports(self) -> dict[int, str]:
        return {
            self.port: "CHIRP_KAFKA_CLUSTER_PORTS",
            self.controller_port: "CHIRP_KAFKA_CLUSTER_CONTROLLER_PORTS",
        }

    def _properties(self) -> dict[str, str]:
        replicas = str(len(self.cluster.nodes))
        return {
            **super()._properties(),
            "default.replication.factor": replicas,
            "min.insync.replicas": str(self.cluster.min_insync_replicas),
            # Created on first use: every node must be up then (pitfall 16).
            "offsets.topic.replication.factor": replicas,
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": str(self.cluster.min_insync_replicas),
            # A node that comes back leads its partitions again soon, not after 5 minutes.
            "leader.imbalance.check.interval.seconds": "10",
        }


class KafkaCluster:
    """Three (or more) KRaft nodes on one machine, each broker and controller, from the jars.

    Each node has its own ports and data directory under `data_dir`; they share one cluster
    id. Topics get `len(nodes)` replicas and `min_insync_replicas` (2 of 3: one node may fail
    while writes go on). `stop()` signals every node at once and kills those that do not exit
    in time: the last nodes of a quorum can wait forever for the others (pitfall 16).
    """

    name = "kafka-cluster"

    def __init__(
        self,
        settings: Settings,
        data_dir: Path | None = None,
        min_insync_replicas: int = 2,
    ) -> None:
        self.settings = settings
        self.data_dir = data_dir or settings.var_dir / "kafka-cluster"
        self.min_insync_replicas = min_insync_replicas
        ports = parse_ports(settings.kafka_cluster_ports, "CHIRP_KAFKA_CLUSTER_PORTS")
        controller_ports = parse_ports(
            settings.kafka_cluster_controller_ports, "CHIRP_KAFKA_CLUSTER_CONTROLLER_PORTS"
        )
        if len(ports) < MIN_KAFKA_CLUSTER_NODES or len(set(ports + controller_ports)) != 2 * len(
            ports
        ):
            raise ServiceStartError(
                f"a Kafka cluster needs {MIN_KAFKA_CLUSTER_NODES} or more nodes with distinct "
                f"ports, got {ports} and controller ports {controller_ports}"
            )
        self.nodes = tuple(
            KafkaClusterNode(self, node_id, port, controller_port)
            for node_id, (port, controller_port) in enumerate(
                zip(ports, controller_ports, strict=True), start=1
            )
        )

    @property
    def quorum_voters(self) -> str:
        return ",".join(f"{n.node_id}@{LOCAL_HOST}:{n.controller_port}" for n in self.nodes)

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes)

    def node(self, node_id: int) -> KafkaClusterNode:
        return next(node for node in self.nodes if node.node_id == node_id)

    def start(self) -> None:
        """Spawn every node that is not running; return at once (the quorum forms meanwhile)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for node in self.nodes:
            node.start()

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until every node is registered and unfenced."""
        budget = self.settings.startup_timeout_s if timeout is None else timeout
        started = time.monotonic()
        deadline = started + budget
        for node in self.nodes:
            node.wait_ready(max(deadline - time.monotonic(), 0.0))
        logger.info("%s ready in %.1fs", self.name, time.monotonic() - started)

    def stop(self, timeout: float = KAFKA_CLUSTER_STOP_S) -> None:
        """SIGTERM every node at once, SIGKILL those still running after `timeout`."""
        stop_together(self.nodes, timeout)

    def is_running(self) -> bool:
        """Whether every node runs."""
        return all(node.is_running() for node in self.nodes)


# --- Redis -------------------------------------------------------------------------------------


class RedisServer(LocalService):
    """A `redis-server` with append-only persistence in `data_dir`."""

    name = "redis"
    port_variable = "CHIRP_REDIS_PORT"

    def __init__(self, settings: Settings, data_dir: Path | None = None) -> None:
        super().__init__(settings, data_dir or settings.var_dir / "redis")

    @property
    def port(self) -> int:
        return self.settings.redis_port

    @property
    def config_file(self) -> Path:
        return self.data_dir / "redis.conf"

    def _ports(self) -> dict[int, str]:
        return {self.port: self.port_variable}

    def _prepare(self) -> list[str]:
        binary = find_redis_server()
        self.config_file.write_text(self._config())
        return [str(binary), str(self.config_file)]

    def _answers(self) -> bool:
        client = self.client()
        try:
            return bool(client.ping())
        except redis.RedisError:  # includes "loading the dataset in memory"
            return False
        finally:
            client.close()

    def client(self) -> redis.Redis:
        """A plain client of this one server, with short timeouts (for probes)."""
        return redis.Redis(
            host=LOCAL_HOST, port=self.port, socket_connect_timeout=1.0, socket_timeout=1.0
        )

    def _config_settings(self) -> dict[str, str]:
        return {
            "port": str(self.port),
            "bind": LOCAL_HOST,
            "protected-mode": "no",  # loopback only; no password locally
            "daemonize": "no",
            "dir": f'"{self.data_dir}"',
            "logfile": '""',  # stdout, which goes to the log file
            "appendonly": "yes",
            "appendfsync": "everysec",
            "save": '""',  # the append-only file is the persistence
        }

    def _config(self) -> str:
        return "".join(f"{key} {value}\n" for key, value in self._config_settings().items())


# --- Redis Cluster -----------------------------------------------------------------------------


class RedisClusterNode(RedisServer):
    """One master of a local Redis Cluster: cluster mode on, its own port and `data_dir`.

    The node keeps the cluster's layout in `nodes.conf` next to its data, so a restarted node
    rejoins the cluster it was part of without another `--cluster create`.
    """

    port_variable = "CHIRP_REDIS_CLUSTER_NODES"

    def __init__(self, settings: Settings, port: int, data_dir: Path) -> None:
        super().__init__(settings, data_dir)
        self._port = port
        self.name = f"redis-{port}"

    @property
    def port(self) -> int:
        return self._port

    @property
    def address(self) -> str:
        return f"{LOCAL_HOST}:{self.port}"

    def _ports(self) -> dict[int, str]:
        return {
            self.port: self.port_variable,
            self.port + CLUSTER_BUS_PORT_OFFSET: f"{self.port_variable} (cluster bus port)",
        }

    def _config_settings(self) -> dict[str, str]:
        return {
            **super()._config_settings(),
            "cluster-enabled": "yes",
            "cluster-config-file": "nodes.conf",
            "cluster-node-timeout": "5000",
        }

    def cluster_info(self) -> dict[str, str] | None:
        """This node's `CLUSTER INFO` fields, or None when it does not answer."""
        client = self.client()
        try:
            reply = client.cluster("INFO")
        except redis.RedisError:
            return None
        finally:
            client.close()
        return {str(key): str(value) for key, value in reply.items()}  # redis-py parses it


class RedisCluster:
    """Three (or more) cluster-mode masters on one machine, joined once into a Redis Cluster.

    `start()` spawns the nodes; `wait_ready()` waits for them, runs `redis-cli --cluster create`
    unless they already form a cluster (a second start, or a restart on the same data), and
    returns once every node reports `cluster_state:ok`. No replicas: a node that is down takes
    its slots with it.
    """

    name = "redis-cluster"

    def __init__(
        self,
        settings: Settings,
        ports: Sequence[int] | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.data_dir = data_dir or settings.var_dir / "redis-cluster"
        chosen = list(ports) if ports is not None else _local_cluster_ports(settings)
        if len(chosen) < MIN_CLUSTER_MASTERS or len(set(chosen)) != len(chosen):
            raise ServiceStartError(
                f"a Redis Cluster needs {MIN_CLUSTER_MASTERS} distinct ports, got {chosen}"
            )
        self.nodes = tuple(
            RedisClusterNode(settings, port, self.data_dir / str(port)) for port in chosen
        )

    @property
    def addresses(self) -> tuple[tuple[str, int], ...]:
        """The nodes as (host, port): the startup nodes a cluster client needs."""
        return tuple((LOCAL_HOST, node.port) for node in self.nodes)

    @property
    def nodes_setting(self) -> str:
        """The nodes as `CHIRP_REDIS_CLUSTER_NODES` spells them."""
        return ",".join(node.address for node in self.nodes)

    def start(self) -> None:
        """Spawn every node that is not running yet; return at once."""
        for node in self.nodes:
            node.start()

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait for the nodes, form the cluster once, then wait for `cluster_state:ok` on each."""
        budget = self.settings.startup_timeout_s if timeout is None else timeout
        started = time.monotonic()
        deadline = started + budget
        for node in self.nodes:
            node.wait_ready(max(deadline - time.monotonic(), 0.0))
        if not self._formed():
            self._create(deadline)
        self._wait_state_ok(deadline, budget)
        logger.info("%s ready in %.1fs", self.name, time.monotonic() - started)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every node (SIGTERM, then SIGKILL after `timeout`); the data stays."""
        for node in self.nodes:
            node.stop(timeout)

    def is_running(self) -> bool:
        """Whether every node runs (the cluster may still be forming)."""
        return all(node.is_running() for node in self.nodes)

    def _formed(self) -> bool:
        """Whether any node already belongs to a cluster: then creating it again would fail."""
        for node in self.nodes:
            info = node.cluster_info() or {}
            if info.get("cluster_known_nodes", "1") != "1":
                return True
            if info.get("cluster_slots_assigned", "0") != "0":
                return True
        return False

    def _create(self, deadline: float) -> None:
        logger.info("creating %s from %s", self.name, self.nodes_setting)
        command = [
            str(find_redis_cli()),
            "--cluster",
            "create",
            *(node.address for node in self.nodes),
            "--cluster-replicas",
            "0",
            "--cluster-yes",
        ]
        remaining = max(deadline - time.monotonic(), 1.0)
        _run_tool(command, f"creating the redis cluster ({self.nodes_setting})", remaining)

    def _wait_state_ok(self, deadline: float, budget: float) -> None:
        while True:
            states = {node: (node.cluster_info() or {}).get("cluster_state") for node in self.nodes}
            behind = [node for node, state in states.items() if state != "ok"]
            if not behind:
                return
            if time.monotonic() >= deadline:
                summary = ", ".join(f"{node.name}: {states[node]}" for node in behind)
                raise behind[0]._failure(
                    f"{self.name} did not reach cluster_state:ok within {budget:.0f}s "
                    f"({summary}); deleting {self.data_dir} forms it anew"
                )
            time.sleep(POLL_INTERVAL_S)


def _local_cluster_ports(settings: Settings) -> list[int]:
    """The ports of CHIRP_REDIS_CLUSTER_NODES, which must all be on this machine."""
    addresses = settings.redis_cluster_addresses
    if not addresses:
        raise ServiceStartError(
            "CHIRP_REDIS_CLUSTER_NODES is empty: name the local nodes, "
            "e.g. 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003"
        )
    remote = [f"{host}:{port}" for host, port in addresses if host not in LOCAL_HOSTS]
    if remote:
        raise ServiceStartError(
            f"CHIRP_REDIS_CLUSTER_NODES names other machines ({', '.join(remote)}): "
            "a local cluster runs on 127.0.0.1 only"
        )
    return [port for _, port in addresses]


def free_cluster_ports(count: int) -> list[int]:
    """`count` free client ports whose cluster bus ports (+10000) are free too.

    Both stay below Linux's ephemeral range (32768+), as `free_ports` explains.
    """
    high = EPHEMERAL_PORTS_START - CLUSTER_BUS_PORT_OFFSET
    candidates = free_ports(min(count + 50, high - 20000), high=high)
    chosen = [port for port in candidates if port_problem(port + CLUSTER_BUS_PORT_OFFSET) is None]
    if len(chosen) < count:
        raise ServiceStartError(f"no {count} free Redis Cluster ports (and bus ports) found")
    return chosen[:count]


# --- convenience -------------------------------------------------------------------------------


class ManagedService(Protocol):
    """What `ensure_running` drives: one process (`LocalService`) or a group (`RedisCluster`)."""

    name: str

    def start(self) -> None: ...

    def wait_ready(self, timeout: float | None = None) -> None: ...

    def stop(self, timeout: float = 30.0) -> None: ...

    def is_running(self) -> bool: ...


def ensure_running(service: ManagedService, timeout: float | None = None) -> None:
    """Start `service` unless it already runs, then wait until it answers.

    A service this call started and that never became ready is stopped again, so a failure
    leaves nothing half-started behind; one that was already running is left alone.
    """
    was_running = service.is_running()
    service.start()
    try:
        service.wait_ready(timeout)
    except ServiceStartError:
        if not was_running:
            service.stop()
        raise
