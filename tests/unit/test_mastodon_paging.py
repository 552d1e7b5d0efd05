"""Mastodon's `max_id` / `since_id` / `min_id` windows over a newest-first listing, read
against a plain list (what a `/v1` listing answers, page by page)."""

from __future__ import annotations

import asyncio

import pytest

from api.mastodon import paging
from api.mastodon.paging import Window, read_window
from api.views import JsonObject

IDS = list(range(100, 0, -1))  # a listing of ids 100..1, newest first


def listing(ids: list[int]) -> paging.Reader:
    async def read(before: int | None, count: int) -> tuple[list[JsonObject], int | None]:
        below = [i for i in ids if before is None or i < before]
        page = below[:count]
        more = page[-1] if len(below) > count else None
        return [{"id": str(i)} for i in page], more

    return read


def window(ids: list[int] = IDS, **bounds: int) -> tuple[list[int], int | None]:
    sliced = asyncio.run(read_window(listing(ids), Window(**bounds)))
    return [int(v["id"]) for v in sliced.views], sliced.next_max_id


def test_the_first_page_and_max_id() -> None:
    assert window(limit=3) == ([100, 99, 98], 98)
    assert window(limit=3, max_id=98) == ([97, 96, 95], 95)
    assert window(limit=5, max_id=4) == ([3, 2, 1], None)


def test_since_id_gives_the_newest_above_it() -> None:
    assert window(limit=3, since_id=50) == ([100, 99, 98], 98)
    assert window(limit=3, since_id=98) == ([100, 99], None)


def test_min_id_gives_the_oldest_above_it_newest_first() -> None:
    assert window(limit=3, min_id=50) == ([53, 52, 51], 51)
    assert window(limit=3, min_id=98) == ([100, 99], None)
    assert window(limit=3, min_id=50, max_id=52) == ([51], None)


def test_filters_skip_entries_and_the_page_says_where_to_go_on() -> None:
    async def read() -> paging.Slice:
        return await read_window(
            listing(IDS), Window(limit=3), keep=lambda v: int(v["id"]) % 10 == 0
        )

    sliced = asyncio.run(read())
    assert [v["id"] for v in sliced.views] == ["100", "90", "80"]
    assert sliced.next_max_id == 80


def test_a_scan_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paging, "MAX_SCAN", 10)
    ids, resume = window(limit=3, min_id=1)
    assert ids == [93, 92, 91] and resume == 91
