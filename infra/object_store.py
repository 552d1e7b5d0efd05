"""Object stores for uploads' bytes: the local filesystem (the default) under `var/media`.

Objects are written once and never changed (a media id names immutable bytes), so a write
goes to a temporary file and is renamed into place: a reader sees all of an object or none.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path


class FileSystemStore:
    """`MediaStore` on a local directory: one file per object key."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"object key {key!r} leaves the store")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as temporary:
            temporary.write(data)
            temporary.flush()
            os.fsync(temporary.fileno())
        Path(temporary.name).replace(path)
