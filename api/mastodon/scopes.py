"""OAuth scopes as Mastodon defines them: `read` and `write` cover every `read:…` and
`write:…` scope, `follow` the follow-graph ones, `push` the push subscription."""

from __future__ import annotations

from collections.abc import Iterable

TOP_LEVEL = frozenset({"read", "write", "follow", "push", "profile"})
FOLLOW_COVERS = frozenset(
    {"read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"}
)
READ_KINDS = (
    "accounts blocks bookmarks favourites filters follows lists mutes notifications search statuses"
)
WRITE_KINDS = (
    "accounts blocks bookmarks conversations favourites filters follows lists media mutes "
    "notifications reports statuses"
)
READ_SCOPES = frozenset(f"read:{kind}" for kind in READ_KINDS.split())
WRITE_SCOPES = frozenset(f"write:{kind}" for kind in WRITE_KINDS.split())
KNOWN = TOP_LEVEL | READ_SCOPES | WRITE_SCOPES
DEFAULT = frozenset({"read"})


class UnknownScope(ValueError):
    pass


def parse_scopes(text: str | None, *, default: frozenset[str] = DEFAULT) -> frozenset[str]:
    """Space-separated scopes (Mastodon also accepts `+`); an unknown one is refused."""
    if text is None or not text.strip():
        return default
    scopes = frozenset(text.replace("+", " ").split())
    unknown = sorted(scopes - KNOWN)
    if unknown:
        raise UnknownScope(f"unknown scope: {' '.join(unknown)}")
    return scopes


def allows(granted: Iterable[str], needed: str) -> bool:
    """Whether a token granted these scopes may do what `needed` (e.g. `write:statuses`)
    names: the scope itself, its top-level scope, or `follow` for the follow-graph ones."""
    granted = frozenset(granted)
    if needed in granted:
        return True
    top = needed.partition(":")[0]
    if top in granted and top in {"read", "write"}:
        return True
    return "follow" in granted and needed in FOLLOW_COVERS


def within(requested: frozenset[str], allowed: frozenset[str]) -> bool:
    """Whether every requested scope is covered by the scopes an app registered."""
    return all(scope in allowed or allows(allowed, scope) for scope in requested)
