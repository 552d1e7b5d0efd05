"""Notifications through HTTP against the running stack: every type, grouped, none for your
own actions, taken back by unlikes, unfollows, undone retweets and deletions; types, pages,
unread counts and read markers; applying the log twice and replaying it change nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis import Redis

from infra.settings import Settings
from infra.topics import chirp_topics, end_offsets
from infra.wiring import redis_factory
from projections.base import Namespace
from projections.notifications import NotificationsProjection
from projections.writer import ProjectionWriter
from tests.integration.test_idempotence import whole_log
from tests.support.client import Account, ChirpClient
from tests.support.read_models import serving_namespace
from tests.support.redis_snapshot import snapshot
from tests.support.replay import run_replay
from tests.support.stacks import Stack
from tests.support.waiting import wait_for

FRESH_WAIT_S = 30.0
Entry = tuple[str, str | None, int, list[str]]  # type, target tweet id, count, sample handles


def page(client: ChirpClient, account: Account, **params: Any) -> dict[str, Any]:
    """A page that has applied every write of this client: a stale answer (the worker was
    slower than the read's wait) is asked again, within a bound."""

    def fresh() -> dict[str, Any] | None:
        response = client.get("/v1/notifications", params=params, headers=account.auth)
        assert response.status_code == 200, response.text
        if "Chirp-Stale" in response.headers:
            return None
        body: dict[str, Any] = response.json()
        return body

    answer = wait_for(fresh, timeout_s=FRESH_WAIT_S, what="a notifications page not stale")
    assert answer is not None
    return answer


def entries(client: ChirpClient, account: Account, **params: Any) -> list[Entry]:
    return [
        (
            item["type"],
            item["target"]["id"] if item["target"] else None,
            item["count"],
            [user["handle"] for user in item["accounts"]],
        )
        for item in page(client, account, limit=100, **params)["data"]
    ]


def unread(client: ChirpClient, account: Account) -> int:
    response = client.get("/v1/notifications/unread_count", headers=account.auth)
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


def mark_read(client: ChirpClient, account: Account, up_to: str) -> int:
    return client.post(
        "/v1/notifications/read", json={"up_to": up_to}, headers=account.auth
    ).status_code


def like(client: ChirpClient, account: Account, tweet: dict[str, Any]) -> None:
    assert client.put(f"/v1/tweets/{tweet['id']}/like", account).status_code == 204


def retweet(client: ChirpClient, account: Account, tweet: dict[str, Any]) -> None:
    assert client.put(f"/v1/tweets/{tweet['id']}/retweet", account).status_code == 204


@pytest.fixture
def people(client: ChirpClient) -> list[Account]:
    return [client.register() for _ in range(6)]


def test_every_type_is_grouped_newest_first_and_none_is_for_your_own_actions(
    client: ChirpClient, people: list[Account]
) -> None:
    ada, bob, cy, dee, eve, fay = people
    post = client.tweet(ada, "hello world")
    for liker in (bob, cy, dee, eve, ada):  # ada's own like tells her nothing
        like(client, liker, post)
    retweet(client, bob, post)
    retweet(client, ada, post)
    reply = client.tweet(cy, f"@{ada.handle} indeed", reply_to=post["id"])  # one entry, a reply
    quote = client.tweet(dee, "so true", quote_of=post["id"])
    mention = client.tweet(eve, f"hi @{ada.handle.upper()} and @nobody{ada.handle[:6]}")
    client.tweet(ada, f"talking to myself @{ada.handle}", reply_to=post["id"], quote_of=post["id"])
    client.follow(bob, ada)
    client.follow(fay, ada)

    assert entries(client, ada) == [
        ("follow", None, 2, [fay.handle, bob.handle]),
        ("mention", mention["id"], 1, [eve.handle]),
        ("quote", quote["id"], 1, [dee.handle]),
        ("reply", reply["id"], 1, [cy.handle]),
        ("retweet", post["id"], 1, [bob.handle]),
        ("like", post["id"], 4, [eve.handle, dee.handle, cy.handle]),
    ]
    [first, *_] = page(client, ada)["data"]
    assert first["accounts"][0] == {
        "id": fay.user_id,
        "handle": fay.handle,
        "display_name": fay.handle,
    }
    like_group = page(client, ada, types="like")["data"][0]
    assert like_group["target"]["text"] == "hello world"
    assert like_group["target"]["like_count"] == 5
    # The actors hear nothing of what they did; a mention of a handle nobody holds is nobody's.
    assert entries(client, bob) == entries(client, eve) == []
    assert unread(client, ada) == 6


def test_unlikes_unfollows_undone_retweets_and_deletions_take_notifications_back(
    client: ChirpClient, people: list[Account]
) -> None:
    ada, bob, cy, dee, eve, _ = people
    kept, doomed = client.tweet(ada, "kept"), client.tweet(ada, "doomed")
    for liker in (bob, cy):
        like(client, liker, kept)
        like(client, liker, doomed)
    retweet(client, bob, kept)
    retweet(client, dee, doomed)
    reply = client.tweet(cy, "a reply", reply_to=kept["id"])
    quote = client.tweet(dee, "a quote", quote_of=kept["id"])
    mention = client.tweet(eve, f"@{ada.handle} a mention")
    client.follow(bob, ada)
    client.follow(cy, ada)
    assert len(entries(client, ada)) == 8
    assert unread(client, ada) == 8

    assert client.delete(f"/v1/tweets/{kept['id']}/like", cy).status_code == 204
    assert client.delete(f"/v1/tweets/{kept['id']}/retweet", bob).status_code == 204
    client.unfollow(cy, ada)
    for tweet, author in ((doomed, ada), (reply, cy), (quote, dee), (mention, eve)):
        assert client.delete(f"/v1/tweets/{tweet['id']}", author).status_code == 204

    assert entries(client, ada) == [
        ("follow", None, 1, [bob.handle]),
        ("like", kept["id"], 1, [bob.handle]),
    ]
    assert unread(client, ada) == 2
    assert client.delete(f"/v1/tweets/{kept['id']}/like", bob).status_code == 204
    client.unfollow(bob, ada)
    assert entries(client, ada) == []
    assert unread(client, ada) == 0


def test_types_filter_and_cursor_pages_list_every_group_once(
    client: ChirpClient, people: list[Account]
) -> None:
    ada, bob, cy, *_ = people
    posts = [client.tweet(ada, f"post {i}") for i in range(5)]
    for post in posts:
        like(client, bob, post)
    retweet(client, cy, posts[0])
    client.follow(cy, ada)
    everything = entries(client, ada)
    assert [kind for kind, *_ in everything] == ["follow", "retweet", *["like"] * 5]

    paged: list[Entry] = []
    cursor = None
    for _ in range(10):
        body = page(client, ada, limit=2, **({"cursor": cursor} if cursor else {}))
        assert len(body["data"]) <= 2
        paged += [
            (
                item["type"],
                item["target"]["id"] if item["target"] else None,
                item["count"],
                [user["handle"] for user in item["accounts"]],
            )
            for item in body["data"]
        ]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert paged == everything

    assert entries(client, ada, types="follow") == [("follow", None, 1, [cy.handle])]
    likes_and_retweets = entries(client, ada, types="like,retweet")
    assert likes_and_retweets == [e for e in everything if e[0] != "follow"]
    second = page(client, ada, types="like", limit=3)
    rest = page(client, ada, types="like", limit=3, cursor=second["next_cursor"])
    assert [g["target"]["id"] for g in second["data"] + rest["data"]] == [
        p["id"] for p in reversed(posts)
    ]
    assert rest["next_cursor"] is None


def test_unread_counts_groups_newer_than_the_read_marker_which_never_moves_back(
    client: ChirpClient, people: list[Account]
) -> None:
    ada, bob, cy, *_ = people
    old, new = client.tweet(ada, "old"), client.tweet(ada, "new")
    like(client, bob, old)
    like(client, bob, new)
    assert unread(client, ada) == 2
    listed = page(client, ada)["data"]
    newest, older = listed[0]["latest_at"], listed[1]["latest_at"]

    assert mark_read(client, ada, older) == 204
    assert unread(client, ada) == 1
    assert mark_read(client, ada, newest) == 204
    assert unread(client, ada) == 0
    assert mark_read(client, ada, older) == 204  # an older marker changes nothing
    assert unread(client, ada) == 0

    like(client, cy, old)  # new activity on a read group makes it unread and first again
    assert unread(client, ada) == 1
    assert entries(client, ada)[0] == ("like", old["id"], 2, [cy.handle, bob.handle])
    assert unread(client, bob) == 0  # markers are per user


@pytest.mark.parametrize(
    "params",
    [
        {"types": "likes"},
        {"types": "like,"},
        {"types": ""},
        {"cursor": "abc"},
        {"cursor": "12-like"},
        {"cursor": "12-boost-3"},
        {"limit": "0"},
        {"limit": "101"},
        {"page": "2"},
    ],
)
def test_a_bad_list_query_is_refused(
    client: ChirpClient, people: list[Account], params: dict[str, str]
) -> None:
    response = client.get("/v1/notifications", params=params, headers=people[0].auth)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_bad_read_marker_is_refused_and_changes_nothing(
    client: ChirpClient, people: list[Account], test_settings: Settings
) -> None:
    ada, bob, *_ = people
    like(client, bob, client.tweet(ada, "hi"))
    assert unread(client, ada) == 1
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    before = end_offsets(test_settings, chirp_topics(test_settings))
    for body in (
        {"up_to": "yesterday"},
        {"up_to": "2026-01-01T00:00:00"},  # no time zone
        {"up_to": future},
        {"up_to": "1969-12-31T23:59:59+00:00"},
        {"up_to": 1_700_000_000_000},
        {},
        {"up_to": "2026-01-01T00:00:00+00:00", "extra": 1},
    ):
        response = client.post("/v1/notifications/read", json=body, headers=ada.auth)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert end_offsets(test_settings, chirp_topics(test_settings)) == before
    assert unread(client, ada) == 1


def test_notifications_need_a_token(client: ChirpClient) -> None:
    for path in ("/v1/notifications", "/v1/notifications/unread_count"):
        assert client.get(path).status_code == 401
    refused = client.post("/v1/notifications/read", json={"up_to": "2026-01-01T00:00:00Z"})
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


def busy_day(client: ChirpClient) -> list[Account]:
    """Every kind of notification and every take-back, among four people."""
    ada, bob, cy, dee = (client.register() for _ in range(4))
    post, gone = client.tweet(ada, "post"), client.tweet(ada, "gone soon")
    for liker in (bob, cy, dee):
        like(client, liker, post)
        like(client, liker, gone)
    retweet(client, bob, post)
    retweet(client, cy, gone)
    assert client.delete(f"/v1/tweets/{post['id']}/like", dee).status_code == 204
    assert client.delete(f"/v1/tweets/{post['id']}/retweet", bob).status_code == 204
    client.tweet(cy, f"@{ada.handle} replying", reply_to=post["id"])
    doomed = client.tweet(dee, f"@{ada.handle} @{bob.handle} quoting", quote_of=post["id"])
    assert client.delete(f"/v1/tweets/{gone['id']}", ada).status_code == 204
    assert client.delete(f"/v1/tweets/{doomed['id']}", dee).status_code == 204
    client.follow(bob, ada)
    client.follow(cy, ada)
    client.follow(ada, bob)
    client.unfollow(cy, ada)
    latest = page(client, ada)["data"][0]["latest_at"]
    assert mark_read(client, ada, latest) == 204
    like(client, dee, post)
    return [ada, bob, cy, dee]


async def _apply_again(settings: Settings, keys: Namespace, *, through_writer: bool) -> None:
    """The whole log applied to the serving notifications again (past the positions too)."""
    projection = NotificationsProjection()
    topics = {settings.topic(family) for family in projection.topic_families}
    logged = [
        e for e in whole_log(settings, projection.topic_families) if e.position.topic in topics
    ]
    redis = redis_factory(settings)()
    try:
        if through_writer:
            await ProjectionWriter(redis, [projection]).apply(logged)
            return
        async with redis.pipeline(transaction=False) as pipe:
            for item in logged:
                if item.event is not None:
                    projection.apply(item.event, keys, pipe)
            await pipe.execute()
    finally:
        await redis.aclose()


def test_applying_the_log_twice_leaves_the_same_notifications(stack: Stack) -> None:
    client = stack.client
    people = busy_day(client)
    seen = {a.handle: (entries(client, a), unread(client, a)) for a in people}
    assert [kind for kind, *_ in seen[people[0].handle][0]] == ["like", "follow", "reply"]
    assert seen[people[0].handle][1] == 1
    assert [kind for kind, *_ in seen[people[1].handle][0]] == ["follow"]  # mention deleted
    keys = serving_namespace(stack.redis, "notifications")
    before = snapshot(stack.redis, keys)

    asyncio.run(_apply_again(stack.settings, keys, through_writer=True))
    assert snapshot(stack.redis, keys) == before
    asyncio.run(_apply_again(stack.settings, keys, through_writer=False))
    assert snapshot(stack.redis, keys) == before
    assert {a.handle: (entries(client, a), unread(client, a)) for a in people} == seen


def test_a_replayed_notifications_projection_equals_the_live_one(
    client: ChirpClient, test_settings: Settings, redis_client: Redis
) -> None:
    people = busy_day(client)
    seen = {a.handle: (entries(client, a), unread(client, a)) for a in people}
    live = snapshot(redis_client, serving_namespace(redis_client, "notifications"))
    assert any(key.startswith("actors:like:") for key in live)

    run_replay(test_settings, "notifications", drop_grace_s=0.2)

    rebuilt = serving_namespace(redis_client, "notifications")
    assert rebuilt.version > 1
    assert snapshot(redis_client, rebuilt) == live
    assert {a.handle: (entries(client, a), unread(client, a)) for a in people} == seen
