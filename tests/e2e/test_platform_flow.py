"""A new user's first minutes, through HTTP against the running stack."""

from __future__ import annotations

from projections.registry import PROJECTION_FAMILIES
from tests.support.client import PASSWORD, ChirpClient, random_handle


def test_register_log_in_post_and_read_back_with_position_token(client: ChirpClient) -> None:
    ada = client.register(display_name="Ada Lovelace")
    bob = client.register()
    posted = client.post(
        "/v1/tweets", json={"text": "Hello #Chirp, @" + bob.handle}, headers=ada.auth
    )
    assert posted.status_code == 201
    assert posted.headers["Location"] == f"/v1/tweets/{posted.json()['id']}"
    token = posted.headers["Chirp-Position"]

    timeline = client.http.get(f"/v1/users/{ada.handle}/tweets", headers={"Chirp-After": token})
    assert timeline.status_code == 200
    assert "Chirp-Stale" not in timeline.headers
    [tweet] = timeline.json()["data"]
    assert tweet["id"] == posted.json()["id"]
    assert tweet["author"] == {
        "id": ada.user_id,
        "handle": ada.handle,
        "display_name": "Ada Lovelace",
    }
    assert tweet["hashtags"] == ["chirp"] and tweet["mentions"] == [bob.handle.lower()]

    one = client.get(f"/v1/tweets/{tweet['id']}")
    assert one.status_code == 200 and one.json()["text"] == "Hello #Chirp, @" + bob.handle
    profile = client.get(f"/v1/users/{ada.handle}")
    assert profile.json()["tweet_count"] == 1
    assert "password" not in profile.text


def test_user_timeline_pages_newest_first_without_gaps(client: ChirpClient) -> None:
    author = client.register()
    posted = [client.tweet(author, f"tweet number {i}")["id"] for i in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/users/{author.handle}/tweets", params=params).json()
        seen += [t["id"] for t in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(posted))


def test_handles_are_unique_regardless_of_case(client: ChirpClient) -> None:
    handle = random_handle()
    client.register(handle)
    again = client.post("/v1/users", json={"handle": handle.upper(), "password": PASSWORD})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_wrong_password_is_refused(client: ChirpClient) -> None:
    account = client.register()
    response = client.http.post(
        "/v1/sessions", json={"handle": account.handle, "password": "not the password"}
    )
    assert response.status_code == 401
    assert response.json()["title"] == "Unauthorized"


def test_unknown_tweet_and_user_are_404(client: ChirpClient) -> None:
    assert client.get("/v1/tweets/123456789").status_code == 404
    assert client.get("/v1/tweets/not-a-number").status_code == 404
    assert client.get(f"/v1/users/{random_handle()}").status_code == 404


def test_health_and_readiness(client: ChirpClient) -> None:
    assert client.http.get("/healthz").json() == {"status": "ok"}
    ready = client.http.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json()["projection_lag"]) == set(PROJECTION_FAMILIES)
    assert all(isinstance(lag, int) for lag in ready.json()["projection_lag"].values())
