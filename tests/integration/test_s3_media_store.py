"""Uploads kept in an S3 bucket: the object store against a real S3 API (versitygw), and an API
process configured with `CHIRP_MEDIA_S3_URL` storing and serving through it."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import boto3
import pytest
from PIL import Image

from infra.local_services import KafkaBroker, RedisServer
from infra.object_store import S3Store
from infra.settings import Settings
from tests.support.client import ChirpClient
from tests.support.s3 import S3Server, versitygw
from tests.support.stacks import another_api

BUCKET = "chirp-media-test"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with versitygw(tmp_path_factory.mktemp("s3") / "buckets") as server:
        client = boto3.client(
            "s3",
            endpoint_url=server.url,
            aws_access_key_id=server.access_key,
            aws_secret_access_key=server.secret_key,
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        yield server


def store_for(s3: S3Server) -> S3Store:
    return S3Store(s3.url, BUCKET, s3.access_key, s3.secret_key, "us-east-1")


def test_objects_go_in_and_come_out_whole(s3: S3Server) -> None:
    store = store_for(s3)

    async def round_trip() -> tuple[bytes | None, bytes | None]:
        await store.put("123/original", b"\x89PNG not really", "image/png")
        return await store.get("123/original"), await store.get("123/missing")

    stored, missing = asyncio.run(round_trip())
    assert stored == b"\x89PNG not really"
    assert missing is None
    head = store.client.head_object(Bucket=BUCKET, Key="123/original")
    assert head["ContentType"] == "image/png"


@pytest.fixture
def s3_api(
    kafka: KafkaBroker, redis_server: RedisServer, test_settings: Settings, s3: S3Server
) -> Iterator[ChirpClient]:
    """A second API process on the session stack whose uploads live in the bucket."""
    s3_settings = {
        "media_s3_url": s3.url,
        "media_s3_bucket": BUCKET,
        "media_s3_access_key": s3.access_key,
        "media_s3_secret_key": s3.secret_key,
    }
    with another_api(test_settings, "s3-api", **s3_settings) as process:
        client = ChirpClient(process.url)
        try:
            yield client
        finally:
            client.close()


def test_an_api_configured_for_s3_stores_and_serves_uploads_from_the_bucket(
    s3_api: ChirpClient, s3: S3Server, worker: object
) -> None:
    owner = s3_api.register()
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (0, 90, 0)).save(out, format="PNG")
    response = s3_api.post(
        "/v1/media", files={"file": ("leaf.png", out.getvalue())}, headers=owner.auth
    )
    assert response.status_code == 201, response.text
    media = response.json()

    keys = {item["Key"] for item in store_for(s3).client.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {f"{media['id']}/original", f"{media['id']}/thumb", f"{media['id']}/small"} <= keys
    served = s3_api.get(media["url"])
    assert served.status_code == 200
    assert Image.open(io.BytesIO(served.content)).size == (40, 20)
