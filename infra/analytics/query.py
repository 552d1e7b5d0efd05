"""SQL over the analytics tables with DuckDB.

DuckDB's own Iceberg extension is downloaded from its extension repository, which this
project cannot rely on (offline machines). Instead pyiceberg reads each table the query names
(`scan().to_arrow()`, S3 included) and the Arrow tables are registered in an in-memory DuckDB
connection as `tweet_posted` and as `chirp.tweet_posted`. A table the sink has not created yet
reads as empty. After that the connection is locked (`enable_external_access = false`): a query
can read the analytics tables and nothing else on the machine, and cannot write files.
Timestamps are shown in UTC. This module never writes to the catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from pyiceberg.exceptions import NoSuchPropertyException
from sqlalchemy.exc import SQLAlchemyError

from infra.analytics.catalog import analytic_tables, load_table, open_existing_catalog
from infra.analytics.tables import NAMESPACE, EventTable
from infra.settings import AnalyticsSettings


class QueryError(ValueError):
    """The SQL cannot be run; the message is one line for the user."""


class TableReadError(RuntimeError):
    """A table exists in the catalog but cannot be read (files gone, catalog unreadable)."""


# What reading the catalog or a table's files raises when something is missing or damaged.
_READ_ERRORS = (OSError, ValueError, SQLAlchemyError, NoSuchPropertyException)


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]


def referenced_tables(sql: str, known: dict[str, EventTable]) -> list[EventTable]:
    """The analytics tables `sql` may name: every known name that occurs in it as a word.

    A name inside a string literal loads one table too many, which is harmless. DuckDB's
    `get_table_names` is not used: it fails to bind some valid queries (CTE joins `USING`).
    """
    words = {word.lower() for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)}
    return [known[name] for name in sorted(known) if name in words]


def load_arrow(
    analytics: AnalyticsSettings, var_dir: Path, specs: list[EventTable]
) -> dict[str, pa.Table]:
    """Each table's rows as Arrow (empty when the sink has not created it yet)."""
    if not specs:
        return {}
    try:
        catalog = open_existing_catalog(analytics, var_dir)
    except _READ_ERRORS as exc:
        raise TableReadError(f"cannot open the analytics catalog: {_first_line(exc)}") from exc
    loaded: dict[str, pa.Table] = {}
    for spec in specs:
        try:
            table = load_table(catalog, spec) if catalog is not None else None
            loaded[spec.name] = table.scan().to_arrow() if table is not None else spec.empty()
        except _READ_ERRORS as exc:
            raise TableReadError(f"cannot read table {spec.name}: {_first_line(exc)}") from exc
    return loaded


def run_query(sql: str, tables: dict[str, pa.Table]) -> QueryResult:
    """Run `sql` in a fresh DuckDB connection that sees exactly `tables`."""
    with duckdb.connect(":memory:") as connection:
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute(f"CREATE SCHEMA {NAMESPACE}")
        for name, arrow in tables.items():  # names are our snake_case event names, not input
            connection.register(f"__arrow_{name}", arrow)
            connection.execute(f"CREATE VIEW main.{name} AS FROM __arrow_{name}")
            connection.execute(f"CREATE VIEW {NAMESPACE}.{name} AS FROM main.{name}")
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
        try:
            cursor = connection.execute(sql)
            description = cursor.description or []
            rows = cursor.fetchall() if description else []
        except duckdb.Error as exc:
            message = _first_line(exc)
            if isinstance(exc, duckdb.CatalogException):
                message += f" (analytics tables: {', '.join(sorted(analytic_table_names()))})"
            raise QueryError(message) from exc
    return QueryResult(
        columns=[column[0] for column in description],
        types=[str(column[1]) for column in description],
        rows=rows,
    )


def query(sql: str, analytics: AnalyticsSettings, var_dir: Path) -> QueryResult:
    """Parse, load the tables `sql` names, run it."""
    known = {spec.name: spec for spec in analytic_tables().values()}
    specs = referenced_tables(sql, known)
    return run_query(sql, load_arrow(analytics, var_dir, specs))


def analytic_table_names() -> list[str]:
    return [spec.name for spec in analytic_tables().values()]


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
