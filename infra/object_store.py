"""Object stores for uploads' bytes: the local filesystem (the default) under `var/media`, or
an S3 bucket (`CHIRP_MEDIA_S3_URL`).

Objects are written once and never changed (a media id names immutable bytes), so a write
goes to a temporary file and is renamed into place: a reader sees all of an object or none.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import boto3
from botocore.config import Config as BotoConfig


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

    async def delete_under(self, prefix: str) -> None:
        await asyncio.to_thread(self._delete_under, prefix)

    def _delete_under(self, prefix: str) -> None:
        # Keys are `{media id}/{variant}`: a prefix ending in `/` is one directory.
        directory = self._path(prefix.rstrip("/"))
        if prefix.endswith("/") and directory != self.root.resolve():
            shutil.rmtree(directory, ignore_errors=True)
            return
        for path in directory.parent.glob(directory.name + "*"):
            if path.is_file():
                path.unlink(missing_ok=True)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as temporary:
            temporary.write(data)
            temporary.flush()
            os.fsync(temporary.fileno())
        Path(temporary.name).replace(path)


class S3Store:
    """`MediaStore` on an S3 bucket (AWS or any S3-compatible server), through boto3 in a
    thread: one object per key, with its content type."""

    def __init__(
        self, endpoint_url: str, bucket: str, access_key: str, secret_key: str, region: str
    ) -> None:
        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"}),
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.put_object, Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
        )

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._get, key)

    async def delete_under(self, prefix: str) -> None:
        await asyncio.to_thread(self._delete_under, prefix)

    def _delete_under(self, prefix: str) -> None:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            objects = [{"Key": found["Key"]} for found in page.get("Contents", [])]
            if objects:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects})

    def _get(self, key: str) -> bytes | None:
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        body: bytes = found["Body"].read()
        return body
