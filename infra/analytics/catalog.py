"""The Iceberg catalog of the analytics tables: open it, create and evolve the tables.

pyiceberg's SQL catalog (SQLite under `var/` by default) with a local or S3-compatible
warehouse. Creating is idempotent and safe to race: every sink start calls `ensure_tables`.
A table whose event gained a field gets the new column, nullable (older rows lack it). Reading never
creates anything: `open_existing_catalog` gives None when there is no catalog yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table
from pyiceberg.types import IcebergType, StructType

from domain.events import Event
from infra.analytics.tables import NAMESPACE, TABLE_PROPERTIES, EventTable, event_tables
from infra.settings import AnalyticsSettings
from schemas import CATALOGUE

logger = logging.getLogger(__name__)

CATALOG_NAME = "chirp"


def analytic_event_types() -> list[type[Event]]:
    """Every event type the codec can decode: each gets a table."""
    return [spec.event_class for spec in CATALOGUE]


def analytic_tables() -> dict[type[Event], EventTable]:
    return event_tables(analytic_event_types())


def open_catalog(analytics: AnalyticsSettings, var_dir: Path) -> SqlCatalog:
    """The SQL catalog, created (with its local directories) if it does not exist."""
    sqlite_file = analytics.sqlite_catalog_file(var_dir)
    if sqlite_file is not None:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    warehouse = analytics.warehouse_url(var_dir)
    if warehouse.startswith("file://"):
        Path(warehouse.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    return SqlCatalog(CATALOG_NAME, **analytics.catalog_properties(var_dir))


def open_existing_catalog(analytics: AnalyticsSettings, var_dir: Path) -> SqlCatalog | None:
    """The SQL catalog for reading: None when its SQLite file does not exist yet."""
    sqlite_file = analytics.sqlite_catalog_file(var_dir)
    if sqlite_file is not None and not sqlite_file.exists():
        return None
    return SqlCatalog(CATALOG_NAME, **analytics.catalog_properties(var_dir))


def ensure_tables(catalog: SqlCatalog, tables: Iterable[EventTable]) -> dict[str, Table]:
    """Create the namespace and each missing table; add new columns; return them by name."""
    catalog.create_namespace_if_not_exists(NAMESPACE)
    opened: dict[str, Table] = {}
    for spec in tables:
        table = catalog.create_table_if_not_exists(
            spec.identifier,
            schema=spec.schema,
            partition_spec=spec.partition_spec,
            properties=TABLE_PROPERTIES,
        )
        missing = missing_columns(spec.schema.as_struct(), table.schema().as_struct())
        if missing:
            logger.info("adding columns %s to %s", [".".join(p) for p, _ in missing], spec.name)
            with table.update_schema() as update:
                for path, field_type in missing:
                    # Optional: the rows already written have no value for it.
                    update.add_column(path, field_type, required=False)
        stale = {k: v for k, v in TABLE_PROPERTIES.items() if table.properties.get(k) != v}
        if stale:
            with table.transaction() as transaction:
                transaction.set_properties(stale)
        opened[spec.name] = table
    return opened


def missing_columns(
    wanted: StructType, present: StructType, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], IcebergType]]:
    """Columns (paths into structs included) of `wanted` that `present` lacks."""
    missing: list[tuple[tuple[str, ...], IcebergType]] = []
    for field in wanted.fields:
        path = (*prefix, field.name)
        existing = present.field_by_name(field.name)
        if existing is None:
            missing.append((path, field.field_type))
        elif isinstance(field.field_type, StructType) and isinstance(
            existing.field_type, StructType
        ):
            missing += missing_columns(field.field_type, existing.field_type, path)
    return missing


def load_table(catalog: SqlCatalog, spec: EventTable) -> Table | None:
    """The table of `spec`, or None when the sink has not created it yet."""
    try:
        return catalog.load_table(spec.identifier)
    except NoSuchTableError:
        return None
