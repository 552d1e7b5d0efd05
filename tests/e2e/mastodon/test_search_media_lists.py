"""Media, search, trends, lists, bookmarks, favourites and markers on the Mastodon surface,
driven by Mastodon.py against the running stack."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator

import httpx
import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError
from PIL import Image

from infra.app_processes import ApiProcess
from infra.settings import Settings
from infra.topics import chirp_topics, end_offsets
from tests.e2e.mastodon.conftest import LogIn
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
    client: ChirpClient, log_in: LogIn, masto_user: tuple[Account, Mastodon]
) -> None:
    _, api = masto_user
    media = api.media_post(png(), mime_type="image/png")
    other = log_in(client.register())
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


def caught_up(api: Mastodon, client: ChirpClient) -> Mastodon:
    """Reads by `api` wait for every write `client` made (`Chirp-After`), as `/v1` reads do."""
    api.session.headers.update(client.after())
    return api


def test_search_finds_accounts_statuses_and_hashtags_and_trends_rank_tags(
    client: ChirpClient, log_in: LogIn
) -> None:
    word = f"zebra{secrets.token_hex(4)}"
    tag = f"tag{secrets.token_hex(4)}"
    ada = client.register(display_name=f"Ada {word}")
    first = client.tweet(ada, f"the first {word} with #{tag}")
    second = client.tweet(ada, f"the second {word} with #{tag.upper()}")
    client.tweet(ada, f"and a third #{tag}")
    api = caught_up(log_in(ada), client)

    found = api.search_v2(word)
    assert [str(a.id) for a in found.accounts] == [ada.user_id]  # a word of the display name
    assert [str(s.id) for s in found.statuses] == [second["id"], first["id"]]
    assert found.statuses[0].account.acct == ada.handle
    assert [h.name for h in found.hashtags] == []  # the word is no tag anybody used
    by_handle = api.search_v2(f"@{ada.handle}", result_type="accounts")
    assert [a.acct for a in by_handle.accounts] == [ada.handle]
    assert by_handle.statuses == []
    older = api.search_v2(word, result_type="statuses", max_id=second["id"])
    assert [str(s.id) for s in older.statuses] == [first["id"]]
    skipped = api.search_v2(word, result_type="statuses", offset=1)
    assert [str(s.id) for s in skipped.statuses] == [first["id"]]
    tags = api.search_v2(f"#{tag}", result_type="hashtags").hashtags
    assert [t.name for t in tags] == [tag]
    assert tags[0].url.endswith(f"/tags/{tag}")
    assert api.search_v2("#nosuchtag0000", result_type="hashtags").hashtags == []

    # The same ranking and counts as `/v1/trends` (the session's other tests' tags may outrank
    # this one there, so its own count is checked only when it is listed).
    trending = api.trending_tags(limit=20)
    listed = client.http.get("/v1/trends", params={"limit": 20}).json()["data"]
    assert [t.name for t in trending] == [row["hashtag"] for row in listed]
    assert [int(t.history[0].uses) for t in trending] == [row["count"] for row in listed]
    assert all(int(t.history[0].uses) == 3 for t in trending if t.name == tag)
    assert [t.name for t in api.trends(limit=20)] == [t.name for t in trending]


def test_bad_searches_are_refused_in_mastodons_form(
    api_server: ApiProcess, masto_user: tuple[Account, Mastodon]
) -> None:
    _, api = masto_user
    url = f"{api_server.url}/api/v2/search"
    auth = {"Authorization": f"Bearer {api.access_token}"}
    for params in ({"q": ""}, {"q": "x", "type": "polls"}, {"q": "x", "limit": "lots"}):
        answer = httpx.get(url, params=params, headers=auth)
        assert answer.status_code == 422, params
        assert answer.json()["error"].startswith("Validation failed")
    assert httpx.get(url, params={"q": "x", "offset": "5"}).status_code == 401
    # An unreadable status query matches no status rather than failing the whole search.
    assert httpx.get(url, params={"q": '"open'}, headers=auth).json()["statuses"] == []


def test_lists_are_made_renamed_filled_emptied_and_deleted(
    client: ChirpClient, masto_user: tuple[Account, Mastodon], log_in: LogIn
) -> None:
    _, api = masto_user
    bob, cy = client.register(), client.register()
    made = api.list_create("friends")
    assert made.title == "friends" and made.replies_policy == "list"
    assert [str(found.id) for found in api.lists()] == [str(made.id)]
    renamed = api.list_update(made.id, "close friends")
    assert renamed.title == "close friends"
    assert api.list(made.id).title == "close friends"
    api.list_accounts_add(made.id, [bob.user_id, cy.user_id])
    assert {a.acct for a in api.list_accounts(made.id)} == {bob.handle, cy.handle}
    api.list_accounts_delete(made.id, [bob.user_id])
    assert [a.acct for a in api.list_accounts(made.id)] == [cy.handle]
    with pytest.raises(MastodonNotFoundError):
        api.list_accounts_add(made.id, ["12345"])
    with pytest.raises(MastodonAPIError) as refused:
        api.list_create("x" * 26)
    assert refused.value.args[1] == 422
    other = log_in(client.register())
    with pytest.raises(MastodonNotFoundError):
        other.list(made.id)  # someone else's list is unknown to them
    api.list_delete(made.id)
    with pytest.raises(MastodonNotFoundError):
        api.list(made.id)
    assert api.lists() == []


def test_bookmarks_and_favourites_list_statuses_with_pages(
    client: ChirpClient, log_in: LogIn
) -> None:
    ada, bob = client.register(), client.register()
    posts = [client.tweet(bob, f"post {n}") for n in range(3)]
    for post in (posts[0], posts[2]):
        assert client.put(f"/v1/tweets/{post['id']}/bookmark", ada).status_code == 204
    for post in (posts[1], posts[2]):
        assert client.put(f"/v1/tweets/{post['id']}/like", ada).status_code == 204
    api = caught_up(log_in(ada), client)

    bookmarked = api.bookmarks()
    assert [str(s.id) for s in bookmarked] == [posts[2]["id"], posts[0]["id"]]
    assert all(s.bookmarked for s in bookmarked)
    first = api.bookmarks(limit=1)
    assert [str(s.id) for s in api.fetch_next(first)] == [posts[0]["id"]]
    favourited = api.favourites()
    assert [str(s.id) for s in favourited] == [posts[2]["id"], posts[1]["id"]]
    assert all(s.favourited for s in favourited)
    one = api.favourites(limit=1)
    assert [str(s.id) for s in api.fetch_next(one)] == [posts[1]["id"]]


def test_markers_keep_the_home_position_and_the_notifications_read_marker(
    client: ChirpClient, log_in: LogIn
) -> None:
    ada, bob = client.register(), client.register()
    post = client.tweet(ada, "mark me")
    assert client.put(f"/v1/tweets/{post['id']}/like", bob).status_code == 204
    api = caught_up(log_in(ada), client)
    assert api.markers_get(["home", "notifications"]) == {}

    set_home = api.markers_set("home", post["id"])
    assert str(set_home.home.last_read_id) == post["id"]
    assert set_home.home.version == 1
    assert api.markers_set("home", post["id"]).home.version == 2
    [notification] = api.notifications()
    assert api.notifications_unread_count().count == 1
    set_read = api.markers_set("notifications", notification.id)
    assert str(set_read.notifications.last_read_id) == str(notification.id)
    both = api.markers_get(["home", "notifications"])
    assert str(both.home.last_read_id) == post["id"]
    assert str(both.notifications.last_read_id) == str(notification.id)
    assert api.notifications_unread_count().count == 0


def test_bad_markers_are_refused_and_produce_nothing(
    api_server: ApiProcess, masto_user: tuple[Account, Mastodon], nothing_produced: None
) -> None:
    _, api = masto_user
    url = f"{api_server.url}/api/v1/markers"
    auth = {"Authorization": f"Bearer {api.access_token}"}
    for body in ({}, {"home": {"last_read_id": "nope"}}, {"notifications": {"last_read_id": "x"}}):
        answer = httpx.post(url, json=body, headers=auth)
        assert answer.status_code == 422, body
        assert answer.json()["error"].startswith("Validation failed")
