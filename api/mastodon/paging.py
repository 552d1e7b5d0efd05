"""Mastodon's pagination over `/v1` listings: `max_id`, `since_id`, `min_id` and `limit` in,
a `Link` header with `rel="next"` (`max_id`) and `rel="prev"` (`min_id`) out.

A `/v1` listing reads newest first below a cursor (`before`, exclusive) and says whether more
follow; statuses there are ordered by their ids, which are the cursors. `max_id` is that
cursor; `since_id` stops the read at an id; `min_id` asks for the entries just above an id,
which a newest-first listing can only give by reading down to it: that walk is bounded
(`MAX_SCAN`). Holds no state; reads only through the reader it is given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request

from api.mastodon.errors import MastodonError
from api.mastodon.params import Params
from api.views import JsonObject
from domain.ids import parse_id

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
MAX_SCAN = 800  # entries a `min_id` read or a filtered read may examine
SCAN_BATCH = 100  # entries asked of a `/v1` listing per read while scanning
ID_PARAMS = ("max_id", "since_id", "min_id")

Reader = Callable[[int | None, int], Awaitable[tuple[list[JsonObject], int | None]]]
"""`read(before, count)`: up to `count` views newest first below `before`, and the cursor to
read on from (None at the end)."""


@dataclass(frozen=True, slots=True)
class Window:
    """Which entries a request asks for: ids below `max_id`, above `since_id` (the newest
    of them) or above `min_id` (the oldest of them, still answered newest first)."""

    limit: int = DEFAULT_LIMIT
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None

    @classmethod
    def of(cls, params: Params, *, default: int = DEFAULT_LIMIT, most: int = MAX_LIMIT) -> Window:
        """From the request's parameters; a limit beyond `most` is lowered to it, as
        Mastodon does, and an id that is not one is refused (422)."""
        text = params.text("limit")
        try:
            limit = int(text) if text not in (None, "") else default
        except ValueError:
            raise MastodonError(422, "Validation failed: limit is not a number") from None
        return cls(
            max(1, min(limit, most)),
            _id(params, "max_id"),
            _id(params, "since_id"),
            _id(params, "min_id"),
        )

    @property
    def lower(self) -> int | None:
        return self.min_id if self.min_id is not None else self.since_id


def _id(params: Params, name: str) -> int | None:
    text = params.text(name)
    if text in (None, ""):
        return None
    parsed = parse_id(text)
    if parsed is None:
        raise MastodonError(422, f"Validation failed: {name} is not an id")
    return parsed


@dataclass(frozen=True, slots=True)
class Slice:
    """The entries of a window, newest first, and where the next (older) page starts."""

    views: list[JsonObject]
    next_max_id: int | None


async def read_window(
    read: Reader,
    window: Window,
    keep: Callable[[JsonObject], bool] | None = None,
) -> Slice:
    """The window's entries from a newest-first listing, those `keep` accepts only."""
    lower = window.lower
    scanning = window.min_id is not None or keep is not None
    batch_size = SCAN_BATCH if scanning else window.limit
    before = window.max_id
    kept: list[JsonObject] = []
    examined = 0
    while True:
        batch, after = await read(before, batch_size)
        for place, view in enumerate(batch):
            view_id = int(view["id"])
            if lower is not None and view_id <= lower:
                return _finish(kept, window, None)
            examined += 1
            if keep is None or keep(view):
                kept.append(view)
            more = place < len(batch) - 1 or after is not None
            if window.min_id is None and len(kept) == window.limit:
                return Slice(kept, view_id if more else None)
            if examined >= MAX_SCAN:
                # Bounded: a page that found fewer than asked still says where to go on.
                return _finish(kept, window, view_id if more else None)
        if after is None:
            return _finish(kept, window, None)
        before = after


def _finish(kept: list[JsonObject], window: Window, resume: int | None) -> Slice:
    if window.min_id is not None:
        page = kept[-window.limit :]
        more_below = len(kept) > len(page) or resume is not None
        return Slice(page, int(page[-1]["id"]) if page and more_below else None)
    return Slice(kept, resume)


def link_header(request: Request, first_id: str | None, next_max_id: int | str | None) -> str:
    """`Link` with `rel="next"` (older: `max_id`) when more follow and `rel="prev"` (newer:
    `min_id` of the first entry) when the page has any; other parameters are kept."""
    base = f"{str(request.base_url).rstrip('/')}{request.url.path}"
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ID_PARAMS]
    links = []
    if next_max_id is not None:
        links.append(f'<{base}?{urlencode([*kept, ("max_id", str(next_max_id))])}>; rel="next"')
    if first_id is not None:
        links.append(f'<{base}?{urlencode([*kept, ("min_id", first_id)])}>; rel="prev"')
    return ", ".join(links)


def page_headers(
    request: Request, entities: list[JsonObject], next_max_id: int | str | None
) -> dict[str, str]:
    link = link_header(request, entities[0]["id"] if entities else None, next_max_id)
    return {"Link": link} if link else {}
