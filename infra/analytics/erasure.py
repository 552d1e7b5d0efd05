"""Erased accounts in the warehouse: which rows are an account's, dropping and deleting them.

A row is an account's when one of its person columns (`ACCOUNT_COLUMNS`: who acted, or whose
tweet, follow or list it is about) holds the account's id. When the sink meets `AccountErased`
it deletes those rows from every table (`delete_rows_of`, an Iceberg delete: new snapshot,
rows gone from every later read); rows of an erased account that arrive later (the take-backs
are on other topics than `AccountErased`, so they may be consumed after it) are dropped before
they are appended (`without_erased`). The `account_erased` table itself is the lineage and keeps
its rows: ids and counts, no personal data. Older snapshots still hold deleted rows until they
are expired (`docs/erasure.md`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from pyiceberg.exceptions import CommitFailedException
from pyiceberg.expressions import BooleanExpression, In, Or
from pyiceberg.table import Table

from domain.events import AccountErased
from infra.analytics.tables import table_name

logger = logging.getLogger(__name__)

ACCOUNT_COLUMNS = (
    "user_id",
    "author_id",
    "follower_id",
    "followee_id",
    "owner_id",
    "member_id",
    "tweet_author_id",
)
ERASURE_TABLE = table_name(AccountErased)
DELETE_RETRIES = 10
DELETE_BACKOFF_S = 0.05


def concerns(row: Mapping[str, Any], erased: Iterable[int] | set[int]) -> bool:
    """Whether a row (or an event's fields) names an erased account in a person column."""
    ids = erased if isinstance(erased, set) else set(erased)
    return any(row.get(column) in ids for column in ACCOUNT_COLUMNS)


def without_erased(
    rows: Mapping[str, list[dict[str, Any]]], erased: set[int]
) -> dict[str, list[dict[str, Any]]]:
    """Each table's rows but those of erased accounts (the erasure table keeps all of its)."""
    if not erased:
        return dict(rows)
    return {
        name: table_rows
        if name == ERASURE_TABLE
        else [row for row in table_rows if not concerns(row, erased)]
        for name, table_rows in rows.items()
    }


def erased_ids(table: Table) -> set[int]:
    """Every account id the erasure table holds."""
    column = table.scan(selected_fields=("user_id",)).to_arrow().column("user_id")
    return {int(user_id) for user_id in column.to_pylist()}


def delete_filter(table: Table, user_ids: set[int]) -> BooleanExpression | None:
    """The rows of `user_ids` in this table, or None if it has no person column."""
    names = {field.name for field in table.schema().fields}
    terms = [In(term=column, literals=user_ids) for column in ACCOUNT_COLUMNS if column in names]
    if not terms:
        return None
    expression: BooleanExpression = terms[0]
    for term in terms[1:]:
        expression = Or(expression, term)
    return expression


def delete_rows_of(tables: Mapping[str, Table], user_ids: set[int]) -> None:
    """Delete the accounts' rows from every table but the erasure table; idempotent, so a
    batch delivered again deletes again and finds nothing."""
    if not user_ids:
        return
    for name, table in tables.items():
        if name == ERASURE_TABLE:
            continue
        expression = delete_filter(table, user_ids)
        if expression is None:
            continue
        for attempt in range(DELETE_RETRIES + 1):
            try:
                table.delete(
                    delete_filter=expression,
                    snapshot_properties={"chirp.erasure.accounts": str(len(user_ids))},
                )
                break
            except CommitFailedException:
                if attempt == DELETE_RETRIES:
                    raise
                time.sleep(DELETE_BACKOFF_S * (attempt + 1))
                table.refresh()
    logger.info("erased %d account(s) from the analytics tables", len(user_ids))
