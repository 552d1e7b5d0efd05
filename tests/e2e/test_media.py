"""Media uploads through HTTP against the running stack: images and video, stored in the
filesystem object store, described by the media projection, served with immutable caching."""

from __future__ import annotations

import io
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import httpx
import pytest
from PIL import Image
from redis import Redis

from infra.settings import Settings
from infra.topics import chirp_topics, end_offsets
from tests.support.client import Account, ChirpClient
from tests.support.read_models import serving_namespace
from tests.support.redis_snapshot import snapshot
from tests.support.replay import run_replay


@pytest.fixture
def owner(client: ChirpClient) -> Account:
    return client.register()


@pytest.fixture
def nothing_stored_or_produced(test_settings: Settings) -> Iterator[None]:
    def stored() -> set[Path]:
        root = test_settings.media_store_dir
        return set(root.rglob("*")) if root.exists() else set()

    before = (end_offsets(test_settings, chirp_topics(test_settings)), stored())
    yield
    assert (end_offsets(test_settings, chirp_topics(test_settings)), stored()) == before


def photo_with_exif(width: int = 400, height: int = 300) -> bytes:
    """A JPEG taken 'sideways': EXIF orientation 6 (rotate 90 degrees) and a camera model."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x0110] = "Chirp Test Camera"  # Model
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def encoded(image_format: str, size: tuple[int, int] = (64, 48), **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format=image_format, **options)
    return out.getvalue()


def short_video() -> bytes:
    """A one-second 160x120 MP4 made on the spot."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.time_base = Fraction(1, 10)
        for n in range(10):
            frame = av.VideoFrame.from_image(Image.new("RGB", (160, 120), (n * 20, 0, 0)))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def upload(client: ChirpClient, account: Account, data: bytes, **form: str) -> httpx.Response:
    return client.post(
        "/v1/media",
        files={"file": ("upload.bin", data, "application/octet-stream")},
        data=form,
        headers=account.auth,
    )


def test_a_photo_is_stored_upright_without_exif_with_smaller_renditions(
    client: ChirpClient, owner: Account
) -> None:
    response = upload(client, owner, photo_with_exif(), alt_text="a red square, sideways")
    assert response.status_code == 201, response.text
    media = response.json()
    assert media["content_type"] == "image/jpeg"
    assert (media["width"], media["height"]) == (300, 400)  # the orientation was applied
    assert media["alt_text"] == "a red square, sideways"
    assert set(media["variants"]) == {"thumb", "small"}
    assert max(media["variants"]["thumb"]["width"], media["variants"]["thumb"]["height"]) == 150

    served = client.get(media["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    stored = Image.open(io.BytesIO(served.content))
    assert stored.size == (300, 400)
    assert not stored.getexif()  # no orientation, no camera: nothing of the original EXIF
    assert len(served.content) == media["bytes"]

    again = client.http.get(media["url"], headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304
    thumb = client.http.get(media["variants"]["thumb"]["url"])
    assert thumb.status_code == 200
    assert Image.open(io.BytesIO(thumb.content)).size == (112, 150)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (encoded("PNG"), "image/png"),
        (encoded("WEBP"), "image/webp"),
        (encoded("GIF"), "image/gif"),
    ],
    ids=["png", "webp", "gif"],
)
def test_each_image_type_is_sniffed_from_its_bytes(
    client: ChirpClient, owner: Account, data: bytes, content_type: str
) -> None:
    response = upload(client, owner, data)
    assert response.status_code == 201, response.text
    media = response.json()
    assert (media["content_type"], media["width"], media["height"]) == (content_type, 64, 48)
    served = client.get(media["url"])
    assert served.headers["content-type"] == content_type


def test_a_video_is_probed_and_gets_a_poster_and_ranges(
    client: ChirpClient, owner: Account
) -> None:
    video = short_video()
    response = upload(client, owner, video)
    assert response.status_code == 201, response.text
    media = response.json()
    assert (media["content_type"], media["width"], media["height"]) == ("video/mp4", 160, 120)
    assert media["duration_s"] == pytest.approx(1.0, abs=0.2)
    poster = client.get(media["variants"]["poster"]["url"])
    assert poster.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(poster.content)).size == (160, 120)

    part = client.http.get(media["url"], headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == video[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(video)}"
    tail = client.http.get(media["url"], headers={"Range": "bytes=-5"})
    assert tail.content == video[-5:]
    beyond = client.http.get(media["url"], headers={"Range": f"bytes={len(video)}-"})
    assert beyond.status_code == 416


def truncated_jpeg() -> bytes:
    return photo_with_exif()[:300]


def bomb() -> bytes:
    """A 20,000 x 20,000 one-bit PNG: a few kilobytes that would decode to 400 M pixels."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"just some words, not a picture", 415),
        (b"%PDF-1.4\n" + b"0" * 200, 415),
        (truncated_jpeg(), 422),
        (bomb(), 422),
    ],
    ids=["text", "pdf", "corrupt-jpeg", "decompression-bomb"],
)
def test_what_is_no_usable_media_is_refused_and_nothing_is_kept(
    client: ChirpClient,
    owner: Account,
    nothing_stored_or_produced: None,
    data: bytes,
    status: int,
) -> None:
    response = upload(client, owner, data)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_an_upload_over_the_size_limit_is_refused(
    client: ChirpClient, owner: Account, test_settings: Settings, nothing_stored_or_produced: None
) -> None:
    response = upload(client, owner, b"\xff" * (test_settings.media_max_bytes + 1))
    assert response.status_code == 413


def test_uploading_needs_a_token_and_unknown_media_are_not_found(client: ChirpClient) -> None:
    anonymous = client.http.post("/v1/media", files={"file": ("a.png", encoded("PNG"))})
    assert anonymous.status_code == 401
    assert client.http.get("/media/123456789").status_code == 404
    assert client.http.get("/media/not-an-id/thumb").status_code == 404


def test_a_replayed_media_projection_equals_the_live_one(
    client: ChirpClient, owner: Account, test_settings: Settings, redis_client: Redis
) -> None:
    uploaded = [upload(client, owner, encoded("PNG", size)).json() for size in ((8, 8), (30, 9))]
    for media in uploaded:
        assert client.get(media["url"]).status_code == 200  # applied
    live = snapshot(redis_client, serving_namespace(redis_client, "media"))
    run_replay(test_settings, "media", drop_grace_s=0.2)
    rebuilt = serving_namespace(redis_client, "media")
    assert snapshot(redis_client, rebuilt) == live
    assert client.get(uploaded[0]["variants"]["thumb"]["url"]).status_code == 200


def test_a_tweet_shows_its_attached_uploads_wherever_it_is_read(
    client: ChirpClient, owner: Account
) -> None:
    photo = upload(client, owner, photo_with_exif(), alt_text="sideways red").json()
    video = upload(client, owner, short_video()).json()
    posted = client.tweet(owner, "look at this", media_ids=[photo["id"]])
    [attached] = posted["media"]
    assert attached["id"] == photo["id"]  # described once the media projection has it

    [shown] = client.user_tweets(owner.handle)
    [described] = shown["media"]
    assert described["url"] == photo["url"]
    assert (described["content_type"], described["width"], described["height"]) == (
        "image/jpeg",
        300,
        400,
    )
    assert described["alt_text"] == "sideways red"
    assert described["variants"]["thumb"]["url"] == photo["variants"]["thumb"]["url"]
    assert client.get(f"/v1/tweets/{posted['id']}").json()["media"] == [described]

    with_video = client.tweet(owner, "and a clip", media_ids=[video["id"]])
    assert client.get(f"/v1/tweets/{with_video['id']}").json()["media"][0]["duration_s"] > 0


def test_media_that_is_not_yours_or_too_much_is_refused(
    client: ChirpClient, owner: Account
) -> None:
    other = client.register()
    theirs = upload(client, other, encoded("PNG")).json()
    mine = [upload(client, owner, encoded("PNG")).json()["id"] for _ in range(2)]
    clip = upload(client, owner, short_video()).json()["id"]
    for media_ids in ([theirs["id"]], [*mine, clip], ["123456789"]):
        response = client.post(
            "/v1/tweets", json={"text": "attached", "media_ids": media_ids}, headers=owner.auth
        )
        assert response.status_code == 422, (media_ids, response.text)
        assert response.headers["content-type"] == "application/problem+json"
