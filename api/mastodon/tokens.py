"""OAuth applications, authorization codes and access tokens, kept in Redis.

Secrets (client secrets, codes, tokens) are random and stored only as their SHA-256 digests:
a copy of Redis names no usable token. Every key stands alone (one command each), so the store
runs unchanged on Redis Cluster. Tokens do not expire (as Mastodon's do not); they are revoked
one by one (`/oauth/revoke`) or all of a user's at once (erasure)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson

from api.auth import Caller

CODE_TTL_S = 600  # an authorization code is redeemed within ten minutes, once
PREFIX = "chirp:oauth"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def pkce_matches(challenge: str, method: str, verifier: str) -> bool:
    """RFC 7636: `S256` (base64url SHA-256 of the verifier, unpadded) or `plain`."""
    if method == "S256":
        hashed = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(hashed).rstrip(b"=").decode()
    else:
        expected = verifier
    return hmac.compare_digest(expected, challenge)


@dataclass(frozen=True, slots=True)
class OAuthApp:
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    scopes: frozenset[str]
    website: str | None
    secret_digest: str
    created_at_ms: int

    def secret_matches(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.secret_digest, digest(client_secret))


@dataclass(frozen=True, slots=True)
class Grant:
    """What an access token stands for: an app, the scopes granted, and the user who granted
    them (none for a client-credentials token, which acts as the app alone)."""

    client_id: str
    scopes: frozenset[str]
    caller: Caller | None
    created_at_ms: int


@dataclass(frozen=True, slots=True)
class PendingCode:
    grant: Grant
    redirect_uri: str
    code_challenge: str | None
    code_challenge_method: str


def _grant_fields(grant: Grant) -> dict[str, Any]:
    caller = grant.caller
    return {
        "client_id": grant.client_id,
        "scopes": sorted(grant.scopes),
        "user_id": caller.user_id if caller else None,
        "handle": caller.handle if caller else None,
        "display_name": caller.display_name if caller else None,
        "created_at_ms": grant.created_at_ms,
    }


def _grant_of(fields: dict[str, Any]) -> Grant:
    caller = None
    if fields["user_id"] is not None:
        caller = Caller(int(fields["user_id"]), fields["handle"], fields["display_name"] or "")
    return Grant(
        fields["client_id"], frozenset(fields["scopes"]), caller, int(fields["created_at_ms"])
    )


class OAuthStore:
    def __init__(self, redis: Any) -> None:
        self.redis = redis

    @staticmethod
    def _now_ms() -> int:
        return int(time.time() * 1000)

    async def register_app(
        self,
        name: str,
        redirect_uris: tuple[str, ...],
        scopes: frozenset[str],
        website: str | None,
    ) -> tuple[OAuthApp, str]:
        """A new app and its client secret (shown once)."""
        client_id, client_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        app = OAuthApp(
            client_id, name, redirect_uris, scopes, website, digest(client_secret), self._now_ms()
        )
        fields = {
            "name": name,
            "redirect_uris": list(redirect_uris),
            "scopes": sorted(scopes),
            "website": website,
            "secret_digest": app.secret_digest,
            "created_at_ms": app.created_at_ms,
        }
        await self.redis.set(f"{PREFIX}:app:{client_id}", orjson.dumps(fields))
        return app, client_secret

    async def app(self, client_id: str) -> OAuthApp | None:
        stored = await self.redis.get(f"{PREFIX}:app:{client_id}")
        if stored is None:
            return None
        fields = orjson.loads(stored)
        return OAuthApp(
            client_id,
            fields["name"],
            tuple(fields["redirect_uris"]),
            frozenset(fields["scopes"]),
            fields["website"],
            fields["secret_digest"],
            int(fields["created_at_ms"]),
        )

    async def client(self, client_id: str, client_secret: str) -> OAuthApp | None:
        """The app these client credentials name, if the secret is its own."""
        app = await self.app(client_id)
        return app if app is not None and app.secret_matches(client_secret) else None

    async def issue(
        self, client_id: str, scopes: frozenset[str], caller: Caller | None
    ) -> tuple[str, Grant]:
        """A new access token and what it grants."""
        token = secrets.token_urlsafe(32)
        grant = Grant(client_id, scopes, caller, self._now_ms())
        await self.redis.set(f"{PREFIX}:token:{digest(token)}", orjson.dumps(_grant_fields(grant)))
        if caller is not None:
            await self.redis.sadd(f"{PREFIX}:user-tokens:{caller.user_id}", digest(token))
        return token, grant

    async def grant(self, token: str) -> Grant | None:
        stored = await self.redis.get(f"{PREFIX}:token:{digest(token)}")
        return _grant_of(orjson.loads(stored)) if stored is not None else None

    async def revoke(self, token: str, client_id: str) -> None:
        """Revokes a token the app issued; another app's token, or an unknown one, is left
        alone (RFC 7009: the answer is the same)."""
        grant = await self.grant(token)
        if grant is None or grant.client_id != client_id:
            return
        await self.redis.delete(f"{PREFIX}:token:{digest(token)}")
        if grant.caller is not None:
            await self.redis.srem(f"{PREFIX}:user-tokens:{grant.caller.user_id}", digest(token))

    async def revoke_all_of(self, user_id: int) -> int:
        """Revokes every token a user granted (an erased account's); how many there were."""
        key = f"{PREFIX}:user-tokens:{user_id}"
        digests = await self.redis.smembers(key)
        for token_digest in digests:
            await self.redis.delete(f"{PREFIX}:token:{_text(token_digest)}")
        await self.redis.delete(key)
        return len(digests)

    async def issue_code(
        self,
        grant: Grant,
        redirect_uri: str,
        code_challenge: str | None,
        code_challenge_method: str,
    ) -> str:
        code = secrets.token_urlsafe(32)
        fields = {
            "grant": _grant_fields(grant),
            "redirect_uri": redirect_uri,
            "code_challenge": code_challenge,
            "code_challenge_method": code_challenge_method,
        }
        await self.redis.set(f"{PREFIX}:code:{digest(code)}", orjson.dumps(fields), ex=CODE_TTL_S)
        return code

    async def redeem_code(self, code: str) -> PendingCode | None:
        """The code's pending grant, once: a second redemption finds nothing."""
        stored = await self.redis.getdel(f"{PREFIX}:code:{digest(code)}")
        if stored is None:
            return None
        fields = orjson.loads(stored)
        return PendingCode(
            _grant_of(fields["grant"]),
            fields["redirect_uri"],
            fields["code_challenge"],
            fields["code_challenge_method"],
        )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def oauth_user_of(scope: Any, token: str) -> int | None:
    """The user an OAuth access token acts for, as the rate limits count callers (None for an
    app's own token, an unknown one, or before the store is set up)."""
    store: OAuthStore | None = getattr(scope["app"].state, "oauth", None)
    grant = await store.grant(token) if store is not None else None
    return grant.caller.user_id if grant is not None and grant.caller is not None else None
