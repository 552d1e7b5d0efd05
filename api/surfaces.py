"""Which HTTP surface a path belongs to: the Mastodon client API (`api.mastodon`) answers in
its own forms (`{"error": ...}`, ISO 8601 rate-limit resets). Imports none of the surfaces, so
the middleware below them (rate limits) can ask without importing them."""

from __future__ import annotations

# Paths the Mastodon client API owns: an unknown one under them answers in its form too.
MASTODON_PREFIXES = ("/api/v1/", "/api/v2/", "/oauth/", "/.well-known/", "/nodeinfo/")


def is_mastodon_path(path: str) -> bool:
    return path.startswith(MASTODON_PREFIXES)
