"""`chirp analytics`: run the Iceberg sink, query the tables with SQL.

Mounted into the `chirp` command (`app.add_typer(analytics_app, name="analytics")`); also
runnable on its own as `python -m infra.analytics.cli`. Bad input is one line on stderr and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import csv
import json
import logging
import signal
import sys
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from kafka.errors import KafkaError
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infra.analytics.query import QueryError, QueryResult, TableReadError, query
from infra.analytics.sink import AnalyticsSink, SinkError, status_file_writer
from infra.logs import configure_logging
from infra.settings import Settings

analytics_app = typer.Typer(
    help="Analytic tables (Apache Iceberg) fed from the event log, queryable with SQL.",
    no_args_is_help=True,
)
console = Console()
errors = Console(stderr=True)

EXIT_BAD_QUERY = 2
NUMERIC_TYPE_PREFIXES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code=code)


def _load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise _fail(f"invalid settings: {exc.errors()[0].get('msg', exc)}") from exc


@analytics_app.command()
def sink(
    once: Annotated[
        bool, typer.Option("--once", help="Drain to the current end offsets, then exit")
    ] = False,
    status_file: Annotated[
        Path | None, typer.Option(help="Keep the sink's state (pid, joined, counters) in this file")
    ] = None,
    loglevel: Annotated[str, typer.Option(help="Log level of the sink")] = "info",
) -> None:
    """Write every event into its Iceberg table until SIGTERM or Ctrl-C (then flush and exit)."""
    settings = _load_settings()
    configure_logging("sink", loglevel.upper())
    if not settings.analytics.enabled:
        errors.print("analytics sink disabled (CHIRP_ANALYTICS_ENABLED=false); nothing to do")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    on_status = status_file_writer(status_file) if status_file is not None else None
    try:
        stats = AnalyticsSink(settings, on_status=on_status).run(stop, once=once)
    except (SinkError, KafkaError) as exc:
        raise _fail(str(exc)) from exc
    if once:
        console.print(
            f"{stats.records:,} records -> {stats.rows:,} rows "
            f"({stats.duplicates:,} already held, {stats.undecodable:,} undecodable) "
            f"in {stats.seconds:.1f}s including the group join ({stats.rows_per_s:,.0f} rows/s)",
            highlight=False,
            soft_wrap=True,
        )


@analytics_app.command(name="query")
def query_command(
    sql: Annotated[str, typer.Argument(help="DuckDB SQL over chirp.<event_table> tables")],
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, csv or json")
    ] = OutputFormat.table,
) -> None:
    """Run SQL over the analytics tables (e.g. `select count(*) from tweet_posted`)."""
    settings = _load_settings()
    try:
        result = query(sql, settings.analytics, settings.var_dir)
    except QueryError as exc:
        raise _fail(str(exc), EXIT_BAD_QUERY) from exc
    except TableReadError as exc:
        raise _fail(str(exc)) from exc
    if output is OutputFormat.json:
        rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
        sys.stdout.write(json.dumps(rows, default=str) + "\n")
    elif output is OutputFormat.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(result.columns)
        writer.writerows([_csv_cell(cell) for cell in row] for row in result.rows)
    else:
        console.print(render_table(result))


def render_table(result: QueryResult) -> Table:
    count = len(result.rows)
    table = Table(caption=f"{count:,} row{'' if count == 1 else 's'}")
    for column, sql_type in zip(result.columns, result.types, strict=True):
        table.add_column(column, justify="right" if _is_numeric(sql_type) else "left")
    for row in result.rows:
        table.add_row(*(_cell(value) for value in row))
    return table


def _is_numeric(sql_type: str) -> bool:
    return sql_type.upper().startswith(NUMERIC_TYPE_PREFIXES)


def _cell(value: Any) -> str:
    return "[dim]NULL[/]" if value is None else escape(str(value))


def _csv_cell(value: Any) -> Any:
    return "" if value is None else value


def main() -> None:
    configure_logging("cli", logging.WARNING)
    analytics_app()


if __name__ == "__main__":
    main()
