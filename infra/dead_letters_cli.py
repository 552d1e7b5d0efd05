"""`chirp dlq`: list, show and replay dead letters (the logic is `infra.dead_letters`).

Mounted into the `chirp` command as `chirp dlq`. Bad input is one line on stderr and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infra.dead_letters import (
    DeadLetter,
    DeadLetterError,
    find_letter,
    read_dead_letters,
    replay_letters,
)
from infra.settings import Settings
from infra.wiring import event_codec
from schemas import EventDecodeError

dlq_app = typer.Typer(no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

PREVIEW_BYTES = 200


def fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code=1)


def when(letter: DeadLetter) -> str:
    moment = datetime.fromtimestamp(letter.timestamp_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def shown_key(key: bytes | None) -> str:
    return "-" if key is None else escape(key.decode(errors="replace"))


@dlq_app.command("list")
def list_letters(
    pending: Annotated[bool, typer.Option("--pending", help="Only letters not replayed")] = False,
) -> None:
    """Every dead letter: its id (PARTITION:OFFSET), source, error and whether it was replayed."""
    letters = read_dead_letters(Settings())
    table = Table("id", "time (UTC)", "source", "key", "error", "status")
    table.columns[0].no_wrap = True
    table.columns[2].no_wrap = True
    for letter in letters:
        if pending and letter.replayed:
            continue
        table.add_row(
            letter.id,
            when(letter),
            escape(letter.source),
            shown_key(letter.key),
            escape(letter.error),
            letter.status,
        )
    console.print(table)
    waiting = sum(not letter.replayed for letter in letters)
    console.print(f"{len(letters)} dead letters, {waiting} pending")


@dlq_app.command("show")
def show_letter(letter_id: Annotated[str, typer.Argument(help="PARTITION:OFFSET")]) -> None:
    """One dead letter in full: source, error, key, headers and the record itself."""
    try:
        letter = find_letter(read_dead_letters(Settings()), letter_id)
    except DeadLetterError as error:
        raise fail(str(error)) from error
    details = Table(show_header=False, box=None)
    details.add_row("id", letter.id)
    details.add_row("time (UTC)", when(letter))
    details.add_row("source", escape(letter.source))
    details.add_row("error", escape(letter.error))
    details.add_row("key", shown_key(letter.key))
    details.add_row("status", letter.status)
    if letter.replay_of:
        details.add_row("replay of", letter.replay_of)
    for replay in letter.replays:
        details.add_row("replayed to", replay.to)
    for key, value in letter.original_headers:
        details.add_row(f"header {escape(key)}", escape(repr(value)))
    details.add_row("value", f"{len(letter.value)} bytes")
    console.print(details)
    try:
        console.print(
            f"decodes today as: {escape(repr(event_codec(Settings()).decode(letter.value)))}"
        )
    except EventDecodeError as error:
        console.print(f"still undecodable: {escape(str(error))}")
    preview = letter.value[:PREVIEW_BYTES]
    more = " ..." if len(letter.value) > PREVIEW_BYTES else ""
    console.print(f"bytes: {escape(repr(preview))}{more}")


@dlq_app.command("replay")
def replay(
    letter_id: Annotated[str | None, typer.Argument(help="PARTITION:OFFSET")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every letter not replayed yet")] = False,
    again: Annotated[
        bool, typer.Option("--again", help="Replay a letter that was replayed before")
    ] = False,
) -> None:
    """Re-drive letters to where they came from; one that fails again comes back as a new one."""
    if (letter_id is None) == (not all_):
        raise fail("name one letter (PARTITION:OFFSET) or pass --all")
    settings = Settings()
    letters = read_dead_letters(settings)
    if all_:
        chosen = [letter for letter in letters if again or not letter.replayed]
    else:
        try:
            letter = find_letter(letters, letter_id or "")
        except DeadLetterError as error:
            raise fail(str(error)) from error
        if letter.replayed and not again:
            raise fail(f"{letter.id} was replayed already ({letter.status}); --again replays it")
        chosen = [letter]
    try:
        replays = replay_letters(settings, chosen)
    except DeadLetterError as error:
        raise fail(str(error)) from error
    for done in replays:
        console.print(f"[green]✓[/] {done.letter_id} -> {done.to}")
    console.print(f"{len(replays)} replayed")
