"""`chirp erasures`: the lineage of account erasures, read from the log itself.

Every `AccountErased` on the users topic, from offset 0 to the end the log had when asked:
which account id, when, how much was taken back with it and where the record sits. The log is
the record of what was erased; no personal data is printed (the event holds none: ids, times
and counts, and the erased uploads' ids, which is what an operator needs to check that their
bytes are gone from the object store).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from domain.events import AccountErased
from infra.log_reader import LogReader
from infra.settings import Settings
from infra.wiring import event_codec
from schemas import EventDecodeError

READ_BATCH = 10_000
READ_TIMEOUT_S = 1.0
READ_DEADLINE_S = 120.0
WIDE = 140  # columns of the table when not printed to a terminal


@dataclass(frozen=True, slots=True)
class ErasureRecord:
    event: AccountErased
    topic: str
    partition: int
    offset: int


def logged_erasures(settings: Settings) -> list[ErasureRecord]:
    """Every erasure in the log, oldest first."""
    codec = event_codec(settings)
    reader = LogReader(settings.bootstrap_servers, [settings.topic("users")])
    found: list[ErasureRecord] = []
    try:
        remaining = {field: end for field, end in reader.log_end.items() if end > 0}
        deadline = time.monotonic() + READ_DEADLINE_S
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the users topic was not read to its end: {remaining}")
            for record in reader.read(READ_BATCH, READ_TIMEOUT_S):
                field = f"{record.topic}:{record.partition}"
                if record.offset >= remaining.get(field, 0):
                    continue
                if record.offset == remaining[field] - 1:
                    del remaining[field]
                try:
                    event = codec.decode(record.value)
                except EventDecodeError:
                    continue  # dead-lettered by the worker; no erasure is lost by skipping it
                if isinstance(event, AccountErased):
                    found.append(
                        ErasureRecord(event, record.topic, record.partition, record.offset)
                    )
    finally:
        reader.close()
    return sorted(found, key=lambda erasure: (erasure.event.erased_at_ms, erasure.event.user_id))


def iso_utc(unix_ms: int) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(unix_ms / 1000)) + f".{unix_ms % 1000:03d}Z"
    )


def erasures_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per erasure")] = False,
) -> None:
    """List erased accounts from the log: ids, when, what was taken back (no personal data)."""
    found = logged_erasures(Settings())
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, WIDE))  # piped: never cut an id short
    if as_json:
        for erasure in found:
            event = erasure.event
            line = {
                "user_id": str(event.user_id),
                "erased_at": iso_utc(event.erased_at_ms),
                "tweets_deleted": event.tweets_deleted,
                "retweets_undone": event.retweets_undone,
                "likes_removed": event.likes_removed,
                "follows_removed": event.follows_removed,
                "media_removed": event.media_removed,
                "media_ids": [str(media_id) for media_id in event.media_ids],
                "position": f"{erasure.topic}:{erasure.partition}:{erasure.offset}",
            }
            console.print_json(json.dumps(line), indent=None)
        return
    table = Table(title=f"Account erasures ({len(found)})")
    table.add_column("user id", no_wrap=True)
    table.add_column("erased at (UTC)", no_wrap=True)
    for column in ("tweets", "retweets", "likes", "follows", "media"):
        table.add_column(column, justify="right")
    table.add_column("log position", no_wrap=True)
    for erasure in found:
        event = erasure.event
        table.add_row(
            str(event.user_id),
            iso_utc(event.erased_at_ms),
            str(event.tweets_deleted),
            str(event.retweets_undone),
            str(event.likes_removed),
            str(event.follows_removed),
            str(event.media_removed),
            f"{erasure.topic}:{erasure.partition}@{erasure.offset}",
        )
    console.print(table)
