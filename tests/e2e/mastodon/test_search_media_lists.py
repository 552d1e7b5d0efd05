"""Media, search, trends, lists, bookmarks, favourites and markers on the Mastodon surface,
driven by Mastodon.py against the running stack."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError
from PIL import Image

from infra.app_processes import ApiProcess
from infra.settings import Settings
from infra.topics import chirp_topics, end_offsets
from tests.support.client import Account, ChirpClient


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def nothing_produced(test_settings: Settings) -> Iterator[None]:
    before = end_offsets(test_settings, chirp_topics(test_settings))
    yield
    assert end_offsets(test_settings, chirp_topics(test_settings)) == before


def test_an_image_uploads_and_reads_back_as_a_media_attachment(
    masto_user: tuple[Account, Mastodon],
) -> None:
    _, api = masto_user
    media = api.media_post(png((640, 480)), mime_type="image/png", description="a blue square")
    assert media.type == "image"
    assert media.url is not None and media.url.startswith("http")
    assert media.description == "a blue square"
    assert media.meta.original.width == 640
    assert media.meta.original.height == 480
    assert media.meta.small.width <= 680
    assert httpx.get(media.url).content[:8] == b"\x89PNG\r\n\x1a\n"
    assert httpx.get(media.preview_url).status_code == 200
    again = api.media(media.id)
    assert again.id == media.id
    assert again.url == media.url
    # The same description is accepted; a different one is refused (Chirp keeps the first).
    assert api.media_update(media.id, description="a blue square").id == media.id
    with pytest.raises(MastodonAPIError) as refused:
        api.media_update(media.id, description="a green square")
    assert refused.value.args[1] == 422


def test_someone_elses_upload_is_not_found(
    client: ChirpClient, log_in: object, masto_user: tuple[Account, Mastodon]
) -> None:
    _, api = masto_user
    media = api.media_post(png(), mime_type="image/png")
    other = log_in(client.register())  # type: ignore[operator]
    with pytest.raises(MastodonNotFoundError):
        other.media(media.id)
    with pytest.raises(MastodonNotFoundError):
        api.media("12345")


def test_bad_uploads_are_refused_in_mastodons_form(
    api_server: ApiProcess, masto_user: tuple[Account, Mastodon], nothing_produced: None
) -> None:
    _, api = masto_user
    auth = {"Authorization": f"Bearer {api.access_token}"}
    url = f"{api_server.url}/api/v2/media"
    not_media = httpx.post(url, headers=auth, files={"file": ("a.png", b"not an image at all")})
    assert not_media.status_code == 422
    assert not_media.json()["error"].startswith("Validation failed")
    no_file = httpx.post(url, headers=auth, data={"description": "nothing"})
    assert no_file.status_code == 422
    assert "error" in no_file.json()
    too_long = httpx.post(
        url, headers=auth, files={"file": ("a.png", png())}, data={"description": "x" * 1001}
    )
    assert too_long.status_code == 422
    anonymous = httpx.post(url, files={"file": ("a.png", png())})
    assert anonymous.status_code == 401
