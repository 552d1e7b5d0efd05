"""Timelines on the Mastodon surface, driven by Mastodon.py: home with `Link` pagination
(`fetch_next`, `fetch_previous`, `fetch_remaining`), public, hashtag, list and an account's
statuses with their filters."""

from __future__ import annotations

import io
import secrets

import pytest
from mastodon import Mastodon, MastodonNotFoundError
from PIL import Image

from infra.app_processes import ApiProcess
from tests.e2e.mastodon.conftest import LogIn
from tests.support.client import Account, ChirpClient
from tests.support.waiting import wait_for

FAN_OUT_WAIT_S = 15.0


def ids(statuses: list[object]) -> list[str]:
    return [str(status.id) for status in statuses]  # type: ignore[attr-defined]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 90, 0)).save(out, format="PNG")
    return out.getvalue()


def test_home_pages_through_link_headers_as_mastodon_py_expects(
    client: ChirpClient, masto_user: tuple[Account, Mastodon]
) -> None:
    account, api = masto_user
    author = client.register()
    client.follow(account, author)
    posted = [client.tweet(author, f"post {n}")["id"] for n in range(25)]
    newest_first = list(reversed(posted))
    # Fan-out to the follower's home is not the follower's own write: waited for, bounded.
    wait_for(
        lambda: ids(api.timeline_home(limit=40)) == newest_first,
        timeout_s=FAN_OUT_WAIT_S,
        what="the 25 posts on the follower's home",
    )

    first = api.timeline_home(limit=10)
    assert ids(first) == newest_first[:10]
    assert first[0].account.acct == author.handle
    second = api.fetch_next(first)
    assert second is not None and ids(second) == newest_first[10:20]
    third = api.fetch_next(second)
    assert third is not None and ids(third) == newest_first[20:]
    assert api.fetch_next(third) is None  # a short last page has no rel="next"
    assert ids(api.fetch_remaining(api.timeline_home(limit=7))) == newest_first
    # rel="prev" is min_id: the page just above, newest first.
    before_second = api.fetch_previous(second)
    assert before_second is not None and ids(before_second) == newest_first[:10]

    latest = client.tweet(author, "newer than everything")["id"]
    wait_for(
        lambda: ids(api.timeline_home(limit=1)) == [latest],
        timeout_s=FAN_OUT_WAIT_S,
        what="the new post on the follower's home",
    )
    newer = api.fetch_previous(first)
    assert newer is not None and ids(newer) == [latest]
    assert ids(api.timeline_home(since_id=newest_first[1])) == [latest, newest_first[0]]
    assert ids(api.timeline_home(min_id=newest_first[5], limit=2)) == newest_first[3:5]
    assert ids(api.timeline_home(max_id=newest_first[0], limit=3)) == newest_first[1:4]
    assert len(api.timeline_home(limit=100)) == 26  # 40 at most per page, as Mastodon


def test_home_shows_a_followees_reblog_as_a_reblog(
    client: ChirpClient, masto_user: tuple[Account, Mastodon]
) -> None:
    account, api = masto_user
    followee, stranger = client.register(), client.register()
    client.follow(account, followee)
    original = client.tweet(stranger, "from a stranger")
    response = client.put(f"/v1/tweets/{original['id']}/retweet", followee)
    assert response.status_code == 204
    home = wait_for(
        lambda: api.timeline_home(), timeout_s=FAN_OUT_WAIT_S, what="the reblog on the home"
    )
    assert home[0].account.acct == followee.handle
    assert str(home[0].reblog.id) == original["id"]
    assert home[0].reblog.account.acct == stranger.handle


def test_the_public_timeline_lists_new_statuses_and_needs_no_token(
    api_server: ApiProcess, masto_user: tuple[Account, Mastodon]
) -> None:
    _, api = masto_user
    posted = api.status_post(f"hello everyone {secrets.token_hex(3)}")
    # The caller's own post is waited for in the search index, as on `/v1` search. The oldest
    # status above the one before it is the post (events other tests wrote straight to the log
    # may carry ids far above any the API mints, so "the newest" need not be it).
    just_after = api.timeline_public(local=True, min_id=int(posted.id) - 1, limit=1)
    assert ids(just_after) == [str(posted.id)]
    anonymous = Mastodon(api_base_url=api_server.url)
    assert str(posted.id) in ids(anonymous.timeline_public(limit=40))
    assert api.timeline_public(remote=True) == []


def test_a_hashtag_timeline_lists_the_tagged_statuses(
    masto_user: tuple[Account, Mastodon],
) -> None:
    _, api = masto_user
    tag = f"tag{secrets.token_hex(4)}"
    tagged = [api.status_post(f"#{tag} number {n}") for n in range(3)]
    api.status_post("no tag here")
    assert ids(api.timeline_hashtag(tag.upper())) == ids(list(reversed(tagged)))
    page = api.timeline_hashtag(tag, limit=2)
    assert ids(page) == [str(tagged[2].id), str(tagged[1].id)]
    rest = api.fetch_next(page)
    assert rest is not None and ids(rest) == [str(tagged[0].id)]


def test_a_list_timeline_shows_its_members_statuses(
    client: ChirpClient, masto_user: tuple[Account, Mastodon], log_in: LogIn
) -> None:
    account, api = masto_user
    member, other = client.register(), client.register()
    made = client.post("/v1/lists", json={"name": "friends"}, headers=account.auth)
    assert made.status_code == 201, made.text
    list_id = made.json()["id"]
    assert client.put(f"/v1/lists/{list_id}/members/{member.handle}", account).status_code == 204
    mine = client.tweet(member, "in the list")["id"]
    client.tweet(other, "not in the list")
    assert ids(api.timeline_list(list_id)) == [mine]
    with pytest.raises(MastodonNotFoundError):  # someone else's list is nobody's to them
        log_in(other).timeline_list(list_id)


def test_an_accounts_statuses_and_their_filters(
    client: ChirpClient, log_in: LogIn, masto_user: tuple[Account, Mastodon]
) -> None:
    _, viewer = masto_user
    author = client.register()
    api = log_in(author)
    someone = client.tweet(client.register(), "someone's post")
    plain = api.status_post("plain")
    reply = api.status_post("a reply", in_reply_to_id=someone["id"])
    media = api.media_post(png(), mime_type="image/png")
    with_media = api.status_post("with a picture", media_ids=[media])
    reblog = api.status_reblog(someone["id"])
    everything = [str(s.id) for s in (reblog, with_media, reply, plain)]

    assert ids(viewer.account_statuses(author.user_id)) == everything
    assert ids(viewer.account_statuses(author.user_id, exclude_replies=True)) == [
        str(reblog.id),
        str(with_media.id),
        str(plain.id),
    ]
    assert ids(viewer.account_statuses(author.user_id, exclude_reblogs=True)) == everything[1:]
    assert ids(viewer.account_statuses(author.user_id, only_media=True)) == [str(with_media.id)]
    assert viewer.account_statuses(author.user_id, pinned=True) == []
    first = viewer.account_statuses(author.user_id, limit=2)
    assert ids(first) == everything[:2]
    assert ids(viewer.fetch_remaining(first)) == everything
