"""Each user's key for the personal fields on the log, kept in files outside it.

One 32-byte file per user under `Settings.personal_keys_dir` (`<var>/keys/<last 2 digits>/
<user id>.key`, mode 0600), shared by every process of a deployment on one machine. Making a
key is atomic across processes (the first link wins; the others read the winner's). Destroying
one replaces the file by an empty one, a tombstone: a destroyed key is never made again, so
nothing written after an erasure can be read either. A deployment over several machines puts
this directory on storage they share, or swaps this class for a key management service behind
the same `schemas.sealing.PersonalKeys` port.

Keys are cached per process for `cache_s`; a key destroyed by another process may open events
in a running process for that long, never in one started after the destruction (a replay, a new
consumer).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

from schemas.sealing import KEY_BYTES, KeyDestroyed, new_key

DEFAULT_CACHE_S = 5.0
SHARDS = 100


class FileKeys:
    """`schemas.sealing.PersonalKeys` in a directory of key files."""

    def __init__(self, directory: Path, cache_s: float = DEFAULT_CACHE_S) -> None:
        self.directory = directory
        self.cache_s = cache_s
        self._cached: dict[int, tuple[bytes | None, float]] = {}

    def path_of(self, user_id: int) -> Path:
        return self.directory / f"{user_id % SHARDS:02d}" / f"{user_id}.key"

    def key_of(self, user_id: int) -> bytes | None:
        now = time.monotonic()
        cached = self._cached.get(user_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        key = self._read(user_id)
        if key is not None:
            self._cached[user_id] = (key, now + self.cache_s)
        return key

    def key_for_writing(self, user_id: int) -> bytes:
        key = self.key_of(user_id)
        if key is not None:
            return key
        path = self.path_of(user_id)
        if path.exists():
            raise KeyDestroyed(f"the key of user {user_id} was destroyed (the account is erased)")
        self._write_new(path, new_key())
        key = self.key_of(user_id)  # ours, or another process's that linked first
        if key is None:
            raise KeyDestroyed(f"the key of user {user_id} was destroyed (the account is erased)")
        return key

    def destroy(self, user_id: int) -> None:
        path = self.path_of(user_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tombstone:
            os.fsync(tombstone.fileno())
        Path(tombstone.name).replace(path)
        _fsync_dir(path.parent)
        self._cached.pop(user_id, None)

    def _read(self, user_id: int) -> bytes | None:
        try:
            key = self.path_of(user_id).read_bytes()
        except FileNotFoundError:
            return None
        return key if len(key) == KEY_BYTES else None  # empty: a tombstone

    def _write_new(self, path: Path, key: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent)
        try:
            os.write(descriptor, key)
            os.fsync(descriptor)
            os.close(descriptor)
            with contextlib.suppress(FileExistsError):  # another process made the key first
                os.link(temporary, path)
            _fsync_dir(path.parent)
        finally:
            Path(temporary).unlink()


def _fsync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
