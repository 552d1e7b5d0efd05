"""Read-your-writes: `Chirp-Position` tokens on writes, `Chirp-After` waits on reads.

A token is opaque to clients: up to 32 `topic:partition:offset` items joined by commas. Its
format is one regular expression (`TOKEN_PATTERN`, also the OpenAPI schema of the header), and
every text that matches it decodes, so the document says exactly which tokens are accepted.
A read waits (bounded) until every projection it reads that consumes the token's topic
has applied that offset; when the wait runs out it answers with what it has and
`Chirp-Stale: true`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated

from fastapi import Header
from pydantic import WithJsonSchema

from api.problems import Problem
from schemas.log import Position

POSITION_HEADER = "Chirp-Position"
AFTER_HEADER = "Chirp-After"
STALE_HEADER = "Chirp-Stale"
MAX_TOKEN_POSITIONS = 32
# Kafka topic names; partitions under 10^9 (int32) and offsets under 10^18 (int64) always fit.
_ITEM = r"[A-Za-z0-9._-]{1,249}:[0-9]{1,9}:[0-9]{1,18}"
TOKEN_PATTERN = rf"^{_ITEM}(?:,{_ITEM}){{0,{MAX_TOKEN_POSITIONS - 1}}}$"
_TOKEN = re.compile(TOKEN_PATTERN)

TOKEN_SCHEMA = {"type": "string", "pattern": TOKEN_PATTERN}
# A request header; checked by `decode_token` (400), not by request validation (422).
ChirpAfter = Annotated[
    str | None,
    WithJsonSchema(TOKEN_SCHEMA),
    Header(
        alias=AFTER_HEADER,
        description="A `Chirp-Position` token: wait (bounded) until the read models have it",
    ),
]


def encode_token(positions: Iterable[Position]) -> str:
    return ",".join(f"{p.topic}:{p.partition}:{p.offset}" for p in positions)


def decode_token(token: str) -> list[Position]:
    """The positions in a token; a malformed token is the client's error (400)."""
    if not _TOKEN.fullmatch(token):
        raise Problem(
            400, f"{AFTER_HEADER} is not a valid position token", title="Invalid position token"
        )
    positions = []
    for item in token.split(","):
        topic, partition, offset = item.rsplit(":", 2)
        positions.append(Position(topic, int(partition), int(offset)))
    return positions
