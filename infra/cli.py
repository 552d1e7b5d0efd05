"""The `chirp` command: run the stack, inspect it, and rebuild projections."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import redis
import typer
from redis.exceptions import RedisClusterException
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from infra.analytics import sink_lag
from infra.analytics.cli import analytics_app
from infra.analytics.process import AnalyticsSinkProcess
from infra.app_processes import ApiProcess, IndexerProcess, WorkerProcess
from infra.dead_letters_cli import dlq_app
from infra.erasures import erasures_command
from infra.indexer import SEARCH_INDEX, replay_search
from infra.local_services import (
    KafkaBroker,
    KafkaCluster,
    LocalService,
    ManagedService,
    RedisCluster,
    RedisServer,
    ServiceStartError,
)
from infra.logs import configure_logging, logging_dict
from infra.multi_node import MultiNodeTopology, ensure_cluster_topics
from infra.replay import projection_statuses, replay
from infra.settings import Settings
from infra.topics import ensure_topics
from infra.wiring import sync_redis, worker_config
from projections.registry import PROJECTION_FAMILIES
from streams.heartbeat import HEARTBEAT_PREFIX

app = typer.Typer(help="Chirp: an event-sourced social backend.", no_args_is_help=True)
app.add_typer(analytics_app, name="analytics", help="The Iceberg sink and SQL over it.")
app.add_typer(dlq_app, name="dlq", help="Dead letters: list, show and replay them.")
app.command(name="erasures")(erasures_command)
console = Console()
errors = Console(stderr=True)

SUPERVISE_EVERY_S = 1.0
PROBE_TIMEOUT_S = 2.0


def stack(settings: Settings, *, redis_cluster: bool = False) -> list[ManagedService]:
    """Every component in start order; they stop in reverse.

    Redis is the single server unless `CHIRP_REDIS_CLUSTER_NODES` names a Redis Cluster: that
    one runs elsewhere, or is the local cluster `redis_cluster` asks for (or an earlier
    `chirp up --redis-cluster` left data of).
    """
    components: list[ManagedService] = [KafkaBroker(settings)]
    components += local_redis(settings, redis_cluster=redis_cluster)
    components += [WorkerProcess(settings), IndexerProcess(settings), ApiProcess(settings)]
    if settings.analytics.enabled:
        components.append(AnalyticsSinkProcess(settings))
    return components


def local_redis(settings: Settings, *, redis_cluster: bool) -> list[ManagedService]:
    if not settings.redis_cluster_addresses:
        return [RedisServer(settings)]
    if redis_cluster:
        return [RedisCluster(settings)]  # refuses nodes on other machines
    try:
        cluster = RedisCluster(settings)
    except ServiceStartError:
        return []  # nodes elsewhere: not ours to start or stop
    return [cluster] if cluster.data_dir.exists() else []


def redis_answers(settings: Settings) -> bool:
    try:
        with sync_redis(settings, socket_timeout_s=PROBE_TIMEOUT_S) as client:
            return bool(client.ping())
    except (redis.RedisError, RedisClusterException):
        return False


def fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=1)


def start_stack(
    settings: Settings, *, redis_cluster: bool, components: list[ManagedService] | None = None
) -> list[ManagedService]:
    components = components or stack(settings, redis_cluster=redis_cluster)
    started: list[ManagedService] = []
    try:
        for component in components:
            with console.status(f"starting {component.name} ..."):
                component.start()
                started.append(component)
                component.wait_ready()
                if isinstance(component, KafkaBroker):
                    ensure_topics(settings, timeout=settings.startup_timeout_s)
                elif isinstance(component, KafkaCluster):
                    ensure_cluster_topics(settings)
            console.print(f"[green]✓[/] {component.name} ready")
    except ServiceStartError as error:
        stop_stack(started)
        raise fail(str(error)) from error
    return components


def stop_stack(components: list[ManagedService]) -> None:
    for component in reversed(components):
        with console.status(f"stopping {component.name} ..."):
            component.stop()


def print_urls(settings: Settings, topology: MultiNodeTopology | None = None) -> None:
    api = f"http://{settings.api_host}:{settings.api_port}"
    apis = api if topology is None else ", ".join(process.url for process in topology.apis)
    redis_where = (
        f"cluster {settings.redis_cluster_nodes}"
        if settings.redis_cluster_addresses
        else settings.redis_dsn
    )
    console.print(
        f"Chirp is up.\n  Web      {api}/\n  API      {apis}\n  Docs     {api}/docs\n"
        f"  Kafka    {settings.bootstrap_servers}\n  Redis    {redis_where}"
    )


@app.command()
def up(
    detach: Annotated[bool, typer.Option("--detach", "-d", help="Return once healthy")] = False,
    redis_cluster: Annotated[
        bool,
        typer.Option(
            "--redis-cluster",
            help="Start a local 3-master Redis Cluster on the CHIRP_REDIS_CLUSTER_NODES ports",
        ),
    ] = False,
    multi_node: Annotated[
        bool,
        typer.Option(
            "--multi-node",
            help="3 Kafka brokers (RF 3, min ISR 2), a 3-master Redis Cluster, 2 workers, 2 APIs",
        ),
    ] = False,
) -> None:
    """Start Kafka, Redis, the Faust worker and the API; Ctrl-C stops them all.

    With CHIRP_REDIS_CLUSTER_NODES set, no single Redis is started: the worker and the API use
    that Redis Cluster (started here with --redis-cluster, else already running). With
    --multi-node, the multi-node topology starts instead, its data under var/multi-node.
    """
    settings = Settings()
    topology = MultiNodeTopology(settings) if multi_node else None
    if topology is not None:
        settings = topology.settings
        components = start_stack(settings, redis_cluster=False, components=topology.components())
    else:
        components = start_stack(settings, redis_cluster=redis_cluster)
    print_urls(settings, topology)
    if detach:
        console.print("Stop it with [bold]chirp down[/].")
        return
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    console.print("Press Ctrl-C to stop.")
    while not stopping.wait(SUPERVISE_EVERY_S):
        dead = [c.name for c in components if not c.is_running()]
        if dead:
            errors.print(f"[bold red]{', '.join(dead)} stopped unexpectedly[/]; shutting down")
            break
    stop_stack(components)
    console.print("Chirp stopped.")


@app.command()
def down() -> None:
    """Stop a stack started with `chirp up --detach` (stale pid files are cleaned up)."""
    settings = Settings()
    stop_stack(stack(settings))
    topology = MultiNodeTopology(settings)
    if topology.exists():  # each node gets a bounded SIGTERM, then SIGKILL
        stop_stack(topology.components())
    console.print("Chirp stopped.")


@app.command()
def status() -> None:
    """Each component's state and each projection's version and lag."""
    settings = Settings()
    components = Table("component", "state", "pid")
    for component in stack(settings):
        running = component.is_running()
        pid = component.pid() if isinstance(component, LocalService) else None
        components.add_row(
            component.name,
            "[green]running[/]" if running else "[red]stopped[/]",
            str(pid or "-"),
        )
    console.print(components)
    topology = MultiNodeTopology(settings)
    if topology.exists():
        print_multi_node_status(topology)
    if not KafkaBroker(settings).is_running() or not redis_answers(settings):
        return
    print_live_state(settings)


def print_multi_node_status(topology: MultiNodeTopology) -> None:
    nodes = Table("multi-node process", "state", "pid", title="multi-node topology")
    for process in topology.processes():
        running = process.is_running()
        state = "[green]running[/]" if running else "[red]stopped[/]"
        nodes.add_row(process.name, state, str(process.pid() or "-"))
    console.print(nodes)
    settings = topology.settings
    if any(node.is_running() for node in topology.kafka.nodes) and redis_answers(settings):
        print_live_state(settings)


def print_live_state(settings: Settings) -> None:
    with sync_redis(settings) as client:  # on a cluster, the scan covers every primary
        workers = [
            key.decode().removeprefix(HEARTBEAT_PREFIX)
            for key in client.scan_iter(match=HEARTBEAT_PREFIX + "*")
        ]
    console.print(f"live workers: {', '.join(workers) or 'none'}")
    print_projection_table(settings)
    if settings.analytics.enabled:
        console.print(f"analytics sink lag: {sink_lag(settings):,} events")


def print_projection_table(settings: Settings) -> None:
    table = Table("projection", "serving version", "building", "lag (events)", "partitions")
    for row in asyncio.run(projection_statuses(settings)):
        table.add_row(
            row.projection,
            str(row.serving),
            str(row.building or "-"),
            str(row.lag),
            str(len(row.positions)),
        )
    console.print(table)


@app.command(name="replay")
def replay_command(
    name: Annotated[str | None, typer.Argument(help="Projection to rebuild")] = None,
    list_: Annotated[bool, typer.Option("--list", help="Show projections and lag")] = False,
    drop_grace_s: Annotated[
        float, typer.Option(help="Seconds before the old version is dropped")
    ] = 1.0,
) -> None:
    """Rebuild one projection from offset 0 while the current version keeps serving."""
    settings = Settings()
    if list_ or name is None:
        print_projection_table(settings)
        return
    if name not in PROJECTION_FAMILIES and name != SEARCH_INDEX:
        choices = ", ".join([*PROJECTION_FAMILIES, SEARCH_INDEX])
        raise fail(f"unknown projection {name!r}; choose one of: {choices}")
    columns = (
        TextColumn(f"rebuilding {name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]:>9} ev/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("replay", total=None, rate="-")

        def report(done: int, total: int) -> None:
            elapsed = progress.tasks[0].elapsed or 0.0
            rate = f"{done / elapsed:,.0f}" if elapsed > 0 else "-"
            progress.update(task, completed=done, total=total, rate=rate)

        if name == SEARCH_INDEX:  # an index on disk, not a Redis read model
            result = replay_search(settings, report)
        else:
            result = asyncio.run(replay(settings, name, report, drop_grace_s=drop_grace_s))
    console.print(
        f"{name}: version {result.old_version} -> {result.new_version}, "
        f"{result.events:,} events in {result.seconds:.1f}s ({result.events_per_s:,.0f}/s)"
    )


@app.command()
def worker(
    data_dir: Annotated[Path | None, typer.Option(help="This worker's RocksDB directory")] = None,
    loglevel: Annotated[str, typer.Option(help="Log level")] = "info",
) -> None:
    """Run one Faust worker in the foreground (`chirp up` starts one for you)."""
    import faust
    import mode.loop

    from infra.metrics_server import serve_metrics
    from streams.app import create_app
    from streams.metrics import WorkerMetrics

    mode.loop.use("uvloop")  # Faust's per-event asyncio machinery is much of a worker's CPU
    settings = Settings()
    config = worker_config(settings)
    if data_dir is not None:
        config = dataclasses.replace(config, data_dir=data_dir)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    metrics = WorkerMetrics()
    serve_metrics(metrics.registry, settings.api_host, settings.worker_metrics_port)
    faust_app = create_app(config, metrics)
    faust.Worker(
        faust_app, loglevel=loglevel, logging_config=logging_dict("worker", loglevel.upper())
    ).execute_from_commandline()


@app.command()
def indexer() -> None:
    """Run the search indexer in the foreground (`chirp up` starts it for you): the one
    process that writes the tweet search index."""
    from infra.indexer import Indexer

    configure_logging("indexer", Settings().log_level)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    Indexer(Settings()).run(stopping)


@app.command()
def api() -> None:
    """Run the HTTP API in the foreground (`chirp up` starts it for you)."""
    import uvicorn

    settings = Settings()
    uvicorn.run(
        "infra.asgi:create",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=settings.api_workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
    )


def main() -> None:
    configure_logging("cli", logging.WARNING)
    app()


if __name__ == "__main__":
    main()
