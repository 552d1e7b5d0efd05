"""Passwords (argon2) and bearer tokens (JWT, HS256 only: `alg: none` never verifies)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"
VERIFIED_TOKENS_KEPT = 10_000  # then the cache starts over


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated user making a request."""

    user_id: int
    handle: str
    display_name: str = ""


class InvalidToken(Exception):
    pass


class TokenIssuer:
    def __init__(self, secret: str, ttl_s: int) -> None:
        self._secret = secret
        self.ttl_s = ttl_s
        # Tokens verified lately, with their expiry: a request's token is checked by the rate
        # limiter and again by the route, and a client sends the same one many times.
        self._verified: dict[str, tuple[Caller, float]] = {}

    def issue(self, caller: Caller) -> str:
        now = int(time.time())
        claims = {
            "sub": str(caller.user_id),
            "handle": caller.handle,
            "name": caller.display_name,
            "iat": now,
            "exp": now + self.ttl_s,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Caller:
        known = self._verified.get(token)
        if known is not None and known[1] > time.time():
            return known[0]
        caller, expires_at = self._decode(token)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.clear()
        self._verified[token] = (caller, expires_at)
        return caller

    def _decode(self, token: str) -> tuple[Caller, float]:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
            )
            caller = Caller(
                user_id=int(claims["sub"]),
                handle=str(claims.get("handle", "")),
                display_name=str(claims.get("name", claims.get("handle", ""))),
            )
            return caller, float(claims["exp"])
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidToken(str(error)) from error


class Passwords:
    """Argon2id hashing; slow on purpose, so callers run it off the event loop."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False
