"""Read-your-writes: `Chirp-Position` tokens on writes, `Chirp-After` waits on reads.

A token is opaque to clients: base64url of a JSON list of [topic, partition, offset].
A read waits (bounded) until every projection it reads that consumes the token's topic
has applied that offset; when the wait runs out it answers with what it has and
`Chirp-Stale: true`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

import orjson

from api.problems import Problem
from schemas.log import Position

POSITION_HEADER = "Chirp-Position"
AFTER_HEADER = "Chirp-After"
STALE_HEADER = "Chirp-Stale"
MAX_TOKEN_POSITIONS = 32


def encode_token(positions: Iterable[Position]) -> str:
    payload = orjson.dumps([[p.topic, p.partition, p.offset] for p in positions])
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def decode_token(token: str) -> list[Position]:
    """The positions in a token; a malformed token is the client's error (400)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        items = orjson.loads(raw)
        if not isinstance(items, list) or not 0 < len(items) <= MAX_TOKEN_POSITIONS:
            raise ValueError("a token holds 1-32 positions")
        positions = []
        for topic, partition, offset in items:
            if not (isinstance(topic, str) and type(partition) is int and type(offset) is int):
                raise ValueError("bad position")
            positions.append(Position(topic, partition, offset))
        return positions
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as error:
        raise Problem(
            400, f"{AFTER_HEADER} is not a valid position token", title="Invalid position token"
        ) from error
