"""The pure parts of the Mastodon API's OAuth: scopes (parsing, what covers what) and PKCE."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.mastodon.scopes import (
    DEFAULT,
    KNOWN,
    READ_SCOPES,
    WRITE_SCOPES,
    UnknownScope,
    allows,
    parse_scopes,
    within,
)
from api.mastodon.tokens import pkce_matches
from api.rate_limits import Verdict
from api.surfaces import is_mastodon_path


def test_scopes_are_split_on_spaces_or_pluses_and_default_to_read() -> None:
    assert parse_scopes("read write:statuses") == {"read", "write:statuses"}
    assert parse_scopes("read+follow") == {"read", "follow"}
    assert parse_scopes(None) == DEFAULT == {"read"}
    assert parse_scopes("   ") == DEFAULT


def test_an_unknown_scope_is_refused_by_name() -> None:
    with pytest.raises(UnknownScope, match="admin:read"):
        parse_scopes("read admin:read")


@pytest.mark.parametrize("needed", sorted(READ_SCOPES))
def test_read_covers_every_read_scope_and_no_write_one(needed: str) -> None:
    assert allows({"read"}, needed)
    assert not allows({"read"}, needed.replace("read:", "write:"))


@pytest.mark.parametrize("needed", sorted(WRITE_SCOPES))
def test_write_covers_every_write_scope(needed: str) -> None:
    assert allows({"write"}, needed)
    assert not allows({"read"}, needed)


def test_follow_covers_the_follow_graph_scopes_only() -> None:
    assert allows({"follow"}, "write:follows")
    assert allows({"follow"}, "read:follows")
    assert not allows({"follow"}, "write:statuses")
    assert not allows({"follow"}, "read:accounts")


def test_a_granular_scope_covers_itself_only() -> None:
    assert allows({"read:accounts"}, "read:accounts")
    assert not allows({"read:accounts"}, "read:statuses")
    assert not allows({"read:accounts"}, "read")


def test_a_token_gets_only_scopes_its_app_registered() -> None:
    assert within(frozenset({"read:accounts", "write:statuses"}), frozenset({"read", "write"}))
    assert within(frozenset({"write:follows"}), frozenset({"follow"}))
    assert not within(frozenset({"write"}), frozenset({"read"}))
    assert not within(frozenset({"read", "push"}), frozenset({"read"}))


@given(st.sets(st.sampled_from(sorted(KNOWN)), max_size=6))
def test_every_scope_set_covers_itself(scopes: set[str]) -> None:
    assert within(frozenset(scopes), frozenset(scopes))


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def test_pkce_s256_matches_the_rfc_7636_example() -> None:
    # RFC 7636, appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_matches("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "S256", verifier)
    assert not pkce_matches("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "S256", "other")


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=43))
def test_pkce_s256_accepts_its_own_verifier_and_refuses_the_challenge_itself(
    verifier: str,
) -> None:
    challenge = s256(verifier)
    assert pkce_matches(challenge, "S256", verifier)
    assert not pkce_matches(challenge, "S256", challenge) or challenge == verifier


def test_pkce_plain_compares_the_verifier_itself() -> None:
    assert pkce_matches("same-verifier", "plain", "same-verifier")
    assert not pkce_matches("same-verifier", "plain", "other-verifier")


@pytest.mark.parametrize(
    ("path", "mastodon"),
    [
        ("/api/v1/accounts/lookup", True),
        ("/api/v2/search", True),
        ("/oauth/token", True),
        ("/.well-known/nodeinfo", True),
        ("/v1/users/ada", False),
        ("/media/1", False),
        ("/", False),
    ],
)
def test_the_mastodon_surface_is_known_by_its_paths(path: str, mastodon: bool) -> None:
    assert is_mastodon_path(path) is mastodon


def test_rate_limit_headers_on_the_mastodon_surface_give_the_reset_as_an_iso_time() -> None:
    verdict = Verdict(allowed=True, limit=300, remaining=12, reset_at=1_700_000_000.2)

    assert verdict.mastodon_headers() == {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "12",
        "X-RateLimit-Reset": "2023-11-14T22:13:21.000Z",
    }
    assert verdict.headers()["X-RateLimit-Reset"] == "1700000001"  # `/v1`: Unix seconds
