"""Notifications on the Mastodon surface, read by Mastodon.py: one per event (v1) with types,
pages and single notifications, grouped (v2), and clear/dismiss through the read marker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

from infra.app_processes import ApiProcess
from infra.settings import Settings
from infra.topics import chirp_topics, end_offsets
from tests.e2e.mastodon.conftest import LogIn
from tests.support.client import Account, ChirpClient


def like(client: ChirpClient, account: Account, tweet: dict[str, Any]) -> None:
    assert client.put(f"/v1/tweets/{tweet['id']}/like", account).status_code == 204


def retweet(client: ChirpClient, account: Account, tweet: dict[str, Any]) -> None:
    assert client.put(f"/v1/tweets/{tweet['id']}/retweet", account).status_code == 204


def caught_up(api: Mastodon, client: ChirpClient) -> Mastodon:
    """Reads by `api` wait for every write `client` made (`Chirp-After`), as `/v1` reads do."""
    api.session.headers.update(client.after())
    return api


Seen = tuple[str, str, str | None]  # type, account handle, status id


def seen(notifications: list[Any]) -> list[Seen]:
    return [
        (n.type, n.account.acct, str(n.status.id) if n.get("status") else None)
        for n in notifications
    ]


@pytest.fixture
def people(client: ChirpClient) -> list[Account]:
    return [client.register() for _ in range(5)]


def test_every_event_is_a_notification_newest_first_with_mastodons_types(
    client: ChirpClient, log_in: LogIn, people: list[Account]
) -> None:
    ada, bob, cy, dee, eve = people
    post = client.tweet(ada, "hello world")
    like(client, bob, post)
    like(client, cy, post)
    like(client, ada, post)  # her own: nothing
    retweet(client, bob, post)
    reply = client.tweet(cy, "indeed", reply_to=post["id"])
    quote = client.tweet(dee, "so true", quote_of=post["id"])
    mention = client.tweet(eve, f"hi @{ada.handle}")
    client.follow(bob, ada)
    api = caught_up(log_in(ada), client)

    listed = api.notifications()
    assert seen(listed) == [
        ("follow", bob.handle, None),
        ("mention", eve.handle, mention["id"]),
        ("quote", dee.handle, quote["id"]),
        ("mention", cy.handle, reply["id"]),  # a reply is a mention, as on Mastodon
        ("reblog", bob.handle, post["id"]),
        ("favourite", cy.handle, post["id"]),
        ("favourite", bob.handle, post["id"]),
    ]
    favourite = listed[-1]
    assert favourite.status.content.startswith("<p>hello world")
    assert favourite.status.favourites_count == 3
    assert favourite.created_at is not None
    ids = [str(n.id) for n in listed]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)

    assert seen(api.notifications(types=["favourite"])) == seen(listed[-2:])
    assert [n.type for n in api.notifications(exclude_types=["favourite", "mention"])] == [
        "follow",
        "quote",
        "reblog",
    ]
    assert api.notifications(types=["poll"]) == []  # a type Chirp never makes
    one = api.notifications(id=listed[2].id)
    assert seen([one]) == seen([listed[2]])
    # The actors hear nothing of their own doings here.
    assert caught_up(log_in(bob), client).notifications() == []


def test_pages_follow_the_link_headers_both_ways(
    client: ChirpClient, log_in: LogIn, people: list[Account]
) -> None:
    ada, *others = people
    posts = [client.tweet(ada, f"post {n}") for n in range(3)]
    for post in posts:
        for liker in others:
            like(client, liker, post)
    api = caught_up(log_in(ada), client)
    everything = api.notifications(limit=40)
    assert len(everything) == 12
    pages, page = [], api.notifications(limit=5)
    while page:
        pages.append(page)
        page = api.fetch_next(page)
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [n.id for p in pages for n in p] == [n.id for n in everything]
    # Newer than the middle of the list: `min_id` gives the ones just above, newest first.
    newer = api.notifications(min_id=everything[6].id, limit=3)
    assert [n.id for n in newer] == [n.id for n in everything[3:6]]
    since = api.notifications(since_id=everything[6].id, limit=3)
    assert [n.id for n in since] == [n.id for n in everything[:3]]
    assert [n.id for n in api.fetch_previous(pages[1])] == [n.id for n in everything[:5]]


def test_grouped_notifications_gather_favourites_and_follows(
    client: ChirpClient, log_in: LogIn, people: list[Account]
) -> None:
    ada, bob, cy, dee, _ = people
    post = client.tweet(ada, "group me")
    for liker in (bob, cy, dee):
        like(client, liker, post)
    client.follow(bob, ada)
    client.follow(cy, ada)
    reply = client.tweet(dee, "a reply", reply_to=post["id"])
    api = caught_up(log_in(ada), client)

    grouped = api.grouped_notifications()
    groups = grouped.notification_groups
    assert [(g.type, g.notifications_count) for g in groups] == [
        ("mention", 1),
        ("follow", 2),
        ("favourite", 3),
    ]
    favourites = groups[2]
    assert favourites.group_key == f"favourite-{post['id']}"
    assert str(favourites.status_id) == post["id"]
    assert [str(a) for a in favourites.sample_account_ids] == [dee.user_id, cy.user_id, bob.user_id]
    assert groups[0].group_key.startswith("ungrouped-")
    assert {str(a.id) for a in grouped.accounts} == {bob.user_id, cy.user_id, dee.user_id}
    assert {str(s.id) for s in grouped.statuses} == {post["id"], reply["id"]}
    first_page = api.grouped_notifications(limit=2)
    assert len(first_page.notification_groups) == 2
    rest = api.fetch_next(first_page)
    assert [g.type for g in rest.notification_groups] == ["favourite"]


def test_clear_and_dismiss_mark_read_and_keep_the_list(
    client: ChirpClient, log_in: LogIn, people: list[Account]
) -> None:
    ada, bob, cy, _, _ = people
    post = client.tweet(ada, "read me")
    like(client, bob, post)
    api = caught_up(log_in(ada), client)
    assert api.notifications_unread_count().count == 1
    older = api.notifications()[0]
    api.notifications_dismiss(older.id)
    assert api.notifications_unread_count().count == 0
    like(client, cy, post)
    caught_up(api, client)
    assert api.notifications_unread_count().count == 1
    api.notifications_clear()
    assert api.notifications_unread_count().count == 0
    assert len(api.notifications()) == 2  # still listed: Chirp deletes no notification
    # A notification taken back (an unlike) is gone, and its id names nothing.
    assert client.delete(f"/v1/tweets/{post['id']}/like", bob).status_code == 204
    caught_up(api, client)
    with pytest.raises(MastodonNotFoundError):
        api.notifications(id=older.id)


@pytest.fixture
def nothing_produced(test_settings: Settings) -> Iterator[None]:
    before = end_offsets(test_settings, chirp_topics(test_settings))
    yield
    assert end_offsets(test_settings, chirp_topics(test_settings)) == before


def test_bad_requests_answer_in_mastodons_form_and_produce_nothing(
    api_server: ApiProcess,
    masto_user: tuple[Account, Mastodon],
    nothing_produced: None,
) -> None:
    _, api = masto_user
    auth = {"Authorization": f"Bearer {api.access_token}"}
    base = f"{api_server.url}/api/v1/notifications"
    for params in ({"max_id": "abc"}, {"limit": "many"}, {"min_id": "1" * 60}):
        answer = httpx.get(base, params=params, headers=auth)
        assert answer.status_code == 422, params
        assert answer.json()["error"].startswith("Validation failed")
    for path in ("/12345", "/" + "9" * 52):
        assert httpx.get(base + path, headers=auth).json() == {"error": "Record not found"}
    missing = httpx.post(f"{base}/{'1' * 52}/dismiss", headers=auth)
    assert missing.status_code == 404
    assert httpx.get(base).status_code == 401


def test_a_read_only_token_cannot_clear(client: ChirpClient, log_in: LogIn) -> None:
    read_only = log_in(client.register(), scopes=["read"])
    assert read_only.notifications() == []
    with pytest.raises(MastodonAPIError) as refused:
        read_only.notifications_clear()
    assert refused.value.args[1] == 403
