"""Consistency a client gets without knowing about positions, against the running stack.

Every request here goes through plain httpx and none sends `Chirp-After` unless the test is
about that header: a client reads its own writes, logs in right after registering, and acts on
tweets and users created a moment ago by others. Reading your own writes runs on a single
Redis and on a Redis Cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from api.positions import decode_token, encode_token
from schemas.log import Position
from tests.support.client import PASSWORD, ChirpClient, random_handle
from tests.support.stacks import Stack

ROUNDS = 20
OLD_MISSING_TWEET_ID = "123456789"  # made in January 2020; no tweet has it


@dataclass(frozen=True)
class User:
    handle: str
    user_id: str
    auth: dict[str, str]


def register(http: httpx.Client, prefix: str = "c") -> tuple[str, str]:
    handle = random_handle(prefix)
    created = http.post("/v1/users", json={"handle": handle, "password": PASSWORD})
    assert created.status_code == 201, created.text
    return handle, created.json()["id"]


def sign_up(http: httpx.Client, prefix: str = "c") -> User:
    """Register, then log in at once, as a client app's first two calls."""
    handle, user_id = register(http, prefix)
    session = http.post("/v1/sessions", json={"handle": handle, "password": PASSWORD})
    assert session.status_code == 200, session.text
    return User(handle, user_id, {"Authorization": f"Bearer {session.json()['access_token']}"})


def post_tweet(http: httpx.Client, author: User, text: str, **fields: str) -> httpx.Response:
    posted = http.post("/v1/tweets", json={"text": text, **fields}, headers=author.auth)
    assert posted.status_code == 201, posted.text
    return posted


def fresh(response: httpx.Response) -> httpx.Response:
    assert response.status_code == 200, response.text
    assert "Chirp-Stale" not in response.headers
    return response


def test_logging_in_right_after_registering_works_every_time(client: ChirpClient) -> None:
    users = [sign_up(client.http) for _ in range(ROUNDS)]

    assert len({user.user_id for user in users}) == ROUNDS


def test_a_user_reads_their_own_tweets_at_once_without_a_token(stack: Stack) -> None:
    http = stack.client.http
    ada = sign_up(http, "ada")
    for round_number in range(ROUNDS):
        tweet_id = post_tweet(http, ada, f"note {round_number}").json()["id"]

        timeline = fresh(http.get(f"/v1/users/{ada.handle}/tweets", headers=ada.auth))
        assert timeline.json()["data"][0]["id"] == tweet_id
        home = fresh(http.get("/v1/timelines/home", headers=ada.auth))
        assert home.json()["data"][0]["id"] == tweet_id
        profile = fresh(http.get(f"/v1/users/{ada.handle}", headers=ada.auth))
        assert profile.json()["tweet_count"] == round_number + 1


def test_a_user_sees_whom_they_just_followed(client: ChirpClient) -> None:
    http = client.http
    ada, bob = sign_up(http, "ada"), sign_up(http, "bob")

    assert http.put(f"/v1/following/{bob.handle}", headers=ada.auth).status_code == 204
    following = fresh(http.get(f"/v1/users/{ada.handle}/following", headers=ada.auth))
    assert [user["id"] for user in following.json()["data"]] == [bob.user_id]
    assert http.delete(f"/v1/following/{bob.handle}", headers=ada.auth).status_code == 204
    following = fresh(http.get(f"/v1/users/{ada.handle}/following", headers=ada.auth))
    assert following.json()["data"] == []


def test_others_act_at_once_on_a_tweet_posted_a_moment_ago(client: ChirpClient) -> None:
    http = client.http
    ada, bob = sign_up(http, "ada"), sign_up(http, "bob")
    for round_number in range(ROUNDS):
        tweet_id = post_tweet(http, ada, f"question {round_number}").json()["id"]

        reply = post_tweet(http, bob, "an answer", reply_to=tweet_id)
        assert reply.json()["reply_to"] == tweet_id
        path = f"/v1/tweets/{tweet_id}"
        assert http.put(f"{path}/like", headers=bob.auth).status_code == 204
        assert http.put(f"{path}/retweet", headers=bob.auth).status_code == 204


def test_following_a_user_registered_a_moment_ago_works(client: ChirpClient) -> None:
    http = client.http
    ada = sign_up(http, "ada")
    followed = []
    for _ in range(ROUNDS):
        handle, user_id = register(http, "new")

        answer = http.put(f"/v1/following/{handle}", headers=ada.auth)
        assert answer.status_code == 204, answer.text
        followed.append(user_id)

    following = fresh(
        http.get(f"/v1/users/{ada.handle}/following", params={"limit": 100}, headers=ada.auth)
    )
    assert {user["id"] for user in following.json()["data"]} == set(followed)


def test_an_old_id_that_names_no_tweet_is_404_at_once(client: ChirpClient) -> None:
    http = client.http
    ada = sign_up(http, "ada")

    answers = [
        http.put(f"/v1/tweets/{OLD_MISSING_TWEET_ID}/like", headers=ada.auth),
        http.post(
            "/v1/tweets",
            json={"text": "replying to nothing", "reply_to": OLD_MISSING_TWEET_ID},
            headers=ada.auth,
        ),
        http.put(f"/v1/following/{random_handle('nobody')}", headers=ada.auth),
    ]

    for answer in answers:
        assert answer.status_code == 404, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "Chirp-Stale" not in answer.headers


def test_a_position_token_still_works_across_clients(client: ChirpClient) -> None:
    ada = sign_up(client.http, "ada")
    posted = post_tweet(client.http, ada, "read me elsewhere")

    with httpx.Client(base_url=str(client.http.base_url), timeout=30.0) as stranger:
        timeline = fresh(
            stranger.get(
                f"/v1/users/{ada.handle}/tweets",
                headers={"Chirp-After": posted.headers["Chirp-Position"]},
            )
        )
    assert timeline.json()["data"][0]["id"] == posted.json()["id"]


def test_a_position_the_log_never_reached_is_answered_stale(client: ChirpClient) -> None:
    ada = sign_up(client.http, "ada")
    [written] = decode_token(
        post_tweet(client.http, ada, "the last word").headers["Chirp-Position"]
    )
    beyond = encode_token([Position(written.topic, written.partition, written.offset + 10**9)])

    timeline = client.http.get(f"/v1/users/{ada.handle}/tweets", headers={"Chirp-After": beyond})

    assert timeline.status_code == 200
    assert timeline.headers["Chirp-Stale"] == "true"


def test_a_bad_token_on_a_public_read_is_ignored_and_refused_where_a_log_in_is_needed(
    client: ChirpClient,
) -> None:
    http = client.http
    ada = sign_up(http, "ada")
    forged = {"Authorization": ada.auth["Authorization"][:-4] + "AAAA"}

    fresh(http.get(f"/v1/users/{ada.handle}/tweets", headers=forged))
    refused = http.get("/v1/timelines/home", headers=forged)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert refused.json()["detail"].startswith("invalid bearer token")
