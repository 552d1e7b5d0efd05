"""Crypto-shredding: personal fields travel on the log sealed under their owner's key.

The log keeps every event forever, so an erased account's words cannot be deleted from it.
Instead the personal fields of an event (a tweet's text, media and location; a display name,
email and bio; an upload's description) are written as one `sealed` blob, AES-256-GCM under a
key that belongs to the user and lives outside the log (a `PersonalKeys` store). Erasure
destroys the key: from then on every reader of the log, a replay or a new analytics consumer
alike, finds the sealed fields unreadable and sees them as erased (their blank values).

Blob layout: one format byte (1), a 12-byte random nonce, then the ciphertext and its tag. The
plaintext is the fields as JSON; the associated data is the event name and the owner's id, so a
blob cannot be moved to another event type or another user's event.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from schemas.errors import EventDecodeError, EventEncodeError

SEALED_FIELD = "sealed"
"""The Avro field that carries the blob (null when the personal fields are in the clear)."""
FORMAT_AES_256_GCM = 1
KEY_BYTES = 32
NONCE_BYTES = 12


class KeyDestroyed(EventEncodeError):
    """The owner's key was destroyed (the account was erased): nothing more is written for it."""


class UnreadableSeal(EventDecodeError):
    """A sealed blob that its owner's key does not open: tampered with, or of another event."""


class PersonalKeys(Protocol):
    """Where each user's key lives, outside the log."""

    def key_of(self, user_id: int) -> bytes | None:
        """The user's key, or None if it was destroyed or never made."""

    def key_for_writing(self, user_id: int) -> bytes:
        """The user's key, made now if the user has none yet; raises `KeyDestroyed` if it was
        destroyed."""

    def destroy(self, user_id: int) -> None:
        """Destroy the user's key for good (idempotent)."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def seal(key: bytes, fields: Mapping[str, Any], associated: bytes) -> bytes:
    """The fields as one blob only `key` opens, bound to `associated`."""
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, orjson.dumps(fields), associated)
    return bytes((FORMAT_AES_256_GCM,)) + nonce + ciphertext


def unseal(key: bytes, blob: bytes, associated: bytes) -> dict[str, Any]:
    """The fields sealed in `blob`; raises `UnreadableSeal` if `key` does not open it."""
    if not blob or blob[0] != FORMAT_AES_256_GCM or len(blob) <= 1 + NONCE_BYTES:
        raise UnreadableSeal(f"not a sealed blob of format {FORMAT_AES_256_GCM}")
    nonce, ciphertext = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        fields: dict[str, Any] = orjson.loads(AESGCM(key).decrypt(nonce, ciphertext, associated))
    except InvalidTag:
        raise UnreadableSeal("the owner's key does not open this blob") from None
    return fields


def associated_data(event_name: str, owner_id: int) -> bytes:
    return f"{event_name}:{owner_id}".encode()
