"""Statuses on the Mastodon surface, driven by Mastodon.py: post (with an image, a reply, an
`Idempotency-Key`), read, delete, context, favourite, reblog, bookmark, and what is refused."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError
from PIL import Image

from infra.settings import Settings
from infra.topics import chirp_topics, end_offsets
from tests.e2e.mastodon.conftest import LogIn
from tests.support.client import Account, ChirpClient


@pytest.fixture
def nothing_produced(test_settings: Settings) -> Iterator[None]:
    before = end_offsets(test_settings, chirp_topics(test_settings))
    yield
    assert end_offsets(test_settings, chirp_topics(test_settings)) == before


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


def test_a_status_is_posted_and_read_back_with_safe_html(
    client: ChirpClient, masto_user: tuple[Account, Mastodon]
) -> None:
    account, api = masto_user
    friend = client.register()
    text = f'<script>alert("x")</script> & hi @{friend.handle} #Chirpy https://example.com/a?b=1'
    posted = api.status_post(text)
    assert posted.account.acct == account.handle
    assert posted.visibility == "public"
    assert "<script>" not in posted.content
    assert "&lt;script&gt;" in posted.content
    assert f'class="u-url mention">@<span>{friend.handle}</span></a>' in posted.content
    assert 'href="https://example.com/a?b=1"' in posted.content
    assert [str(m.id) for m in posted.mentions] == [friend.user_id]
    assert [t.name for t in posted.tags] == ["chirpy"]
    again = api.status(posted.id)
    assert again.id == posted.id
    assert again.content == posted.content
    assert again.favourites_count == 0 and again.reblog is None


def test_a_status_with_an_image_carries_its_attachment(
    masto_user: tuple[Account, Mastodon],
) -> None:
    _, api = masto_user
    media = api.media_post(png((320, 200)), mime_type="image/png", description="a red block")
    posted = api.status_post("look", media_ids=[media])
    assert [m.id for m in posted.media_attachments] == [media.id]
    attachment = api.status(posted.id).media_attachments[0]
    assert attachment.type == "image"
    assert attachment.description == "a red block"
    assert attachment.meta.original.width == 320
    assert httpx.get(attachment.url).content[:4] == b"\x89PNG"
    assert httpx.get(attachment.preview_url).status_code == 200


def test_favourites_count_and_flag_follow_favourite_and_unfavourite(
    client: ChirpClient, masto_user: tuple[Account, Mastodon], log_in: LogIn
) -> None:
    account, api = masto_user
    author = client.register()
    tweet = client.tweet(author, "like me")
    liked = api.status_favourite(tweet["id"])
    assert liked.favourited is True and liked.favourites_count == 1
    assert [str(a.id) for a in api.status_favourited_by(tweet["id"])] == [account.user_id]
    # The author sees the count, not the flag: favourited is the caller's own.
    seen_by_author = log_in(author).status(tweet["id"])
    assert seen_by_author.favourites_count == 1 and seen_by_author.favourited is False
    again = api.status_favourite(tweet["id"])  # twice is once
    assert again.favourites_count == 1
    unliked = api.status_unfavourite(tweet["id"])
    assert unliked.favourited is False and unliked.favourites_count == 0
    assert api.status_favourited_by(tweet["id"]) == []


def test_a_reblog_wraps_the_original_and_is_undone(
    client: ChirpClient, masto_user: tuple[Account, Mastodon]
) -> None:
    account, api = masto_user
    author = client.register()
    tweet = client.tweet(author, "worth sharing")
    reblog = api.status_reblog(tweet["id"])
    assert str(reblog.id) != tweet["id"]
    assert str(reblog.account.id) == account.user_id
    assert str(reblog.reblog.id) == tweet["id"]
    assert reblog.reblog.account.acct == author.handle
    assert reblog.reblog.reblogged is True and reblog.reblog.reblogs_count == 1
    assert str(api.status(reblog.id).reblog.id) == tweet["id"]  # the reblog's own id reads back
    assert [str(a.id) for a in api.status_reblogged_by(tweet["id"])] == [account.user_id]
    undone = api.status_unreblog(tweet["id"])
    assert str(undone.id) == tweet["id"]
    assert undone.reblogged is False and undone.reblogs_count == 0
    assert api.status_reblogged_by(tweet["id"]) == []


def test_bookmarks_are_the_callers_own_flag(
    client: ChirpClient, masto_user: tuple[Account, Mastodon]
) -> None:
    _, api = masto_user
    tweet = client.tweet(client.register(), "keep this")
    assert api.status_bookmark(tweet["id"]).bookmarked is True
    assert api.status(tweet["id"]).bookmarked is True
    assert api.status_unbookmark(tweet["id"]).bookmarked is False


def test_replies_and_their_context(
    client: ChirpClient, masto_user: tuple[Account, Mastodon], log_in: LogIn
) -> None:
    account, api = masto_user
    other = client.register()
    other_api = log_in(other)
    root = api.status_post("root")
    first = other_api.status_post("first reply", in_reply_to_id=root)
    nested = api.status_post("nested reply", in_reply_to_id=first)
    second = other_api.status_post("second reply", in_reply_to_id=root.id)
    assert first.in_reply_to_id == root.id
    assert str(first.in_reply_to_account_id) == account.user_id
    assert str(nested.in_reply_to_account_id) == other.user_id

    around_first = api.status_context(first)
    assert [s.id for s in around_first.ancestors] == [root.id]
    assert [s.id for s in around_first.descendants] == [nested.id]
    # Depth first, oldest first at each level, as Mastodon lists a thread.
    around_root = api.status_context(root)
    assert around_root.ancestors == []
    assert [s.id for s in around_root.descendants] == [first.id, nested.id, second.id]
    assert api.status(root.id).replies_count == 2


def test_deleting_answers_the_source_text_and_the_status_is_gone(
    client: ChirpClient, masto_user: tuple[Account, Mastodon], log_in: LogIn
) -> None:
    _, api = masto_user
    posted = api.status_post("short-lived & <b>bold</b>")
    someone = log_in(client.register())
    with pytest.raises(MastodonAPIError) as refused:
        someone.status_delete(posted.id)
    assert refused.value.args[1] == 403
    deleted = api.status_delete(posted.id)
    assert deleted.id == posted.id
    assert deleted.text == "short-lived & <b>bold</b>"
    with pytest.raises(MastodonNotFoundError):
        api.status(posted.id)
    with pytest.raises(MastodonNotFoundError):
        api.status_delete(posted.id)


@pytest.mark.parametrize(
    "fields",
    [
        {"visibility": "private"},
        {"visibility": "unlisted"},
        {"visibility": "direct"},
        {"spoiler_text": "careful"},
        {"sensitive": True},
    ],
)
def test_what_chirp_cannot_post_is_refused_and_nothing_is_produced(
    masto_user: tuple[Account, Mastodon], nothing_produced: None, fields: dict[str, object]
) -> None:
    _, api = masto_user
    with pytest.raises(MastodonAPIError) as refused:
        api.status_post("not public", **fields)
    assert refused.value.args[1] == 422
    assert "Validation failed" in str(refused.value.args[3])


def test_a_poll_and_bad_input_are_refused_in_mastodons_error_form(
    masto_user: tuple[Account, Mastodon], nothing_produced: None
) -> None:
    _, api = masto_user
    url = f"{api.api_base_url}/api/v1/statuses"
    headers = {"Authorization": f"Bearer {api.access_token}"}
    poll = {"status": "which?", "poll": {"options": ["a", "b"], "expires_in": 600}}
    answer = httpx.post(url, json=poll, headers=headers)
    assert answer.status_code == 422 and "polls" in answer.json()["error"]
    empty = httpx.post(url, data={"status": "   "}, headers=headers)
    assert empty.status_code == 422 and set(empty.json()) == {"error"}
    missing = httpx.post(url, data={"status": "hi", "in_reply_to_id": "12345"}, headers=headers)
    assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}
    media = httpx.post(url, data={"status": "hi", "media_ids[]": "nope"}, headers=headers)
    assert media.status_code == 422


def test_a_retry_with_the_same_idempotency_key_gets_the_same_status(
    client: ChirpClient, masto_user: tuple[Account, Mastodon]
) -> None:
    account, api = masto_user
    first = api.status_post("exactly once", idempotency_key="retry-1")
    again = api.status_post("exactly once", idempotency_key="retry-1")
    assert again.id == first.id
    other = api.status_post("exactly once", idempotency_key="retry-2")
    assert other.id != first.id
    statuses = api.account_statuses(account.user_id)
    assert sorted(s.id for s in statuses) == sorted([first.id, other.id])


def test_a_token_without_write_scope_cannot_post(client: ChirpClient, log_in: LogIn) -> None:
    account = client.register()
    reader = log_in(account, scopes=["read"])  # type: ignore[call-arg]
    with pytest.raises(MastodonAPIError) as refused:
        reader.status_post("hello")
    assert refused.value.args[1] == 403
    assert reader.account_statuses(account.user_id) == []
