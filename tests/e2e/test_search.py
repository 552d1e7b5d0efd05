"""Search through HTTP against the running stack: words, phrases, hashtags, authors, sort and
paging, deletes, users by prefix, bad input as problem+json, and a rebuilt index that answers
as the live one did."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
import pytest

from infra.settings import Settings
from projections.search_index import IndexVersions
from tests.support.client import ChirpClient
from tests.support.replay import run_replay
from tests.support.waiting import wait_for

PROBLEM_JSON = "application/problem+json"


def word() -> str:
    """A word no other test writes, so each test sees only its own tweets."""
    return "zq" + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(8))


def search(client: ChirpClient, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/search/tweets", params={"q": q, **params})
    assert response.status_code == 200, response.text
    assert "Chirp-Stale" not in response.headers
    body: dict[str, Any] = response.json()
    return body


def texts(page: dict[str, Any]) -> list[str]:
    return [item["text"] for item in page["data"]]


def test_words_phrases_hashtags_and_authors_find_what_was_posted(client: ChirpClient) -> None:
    ada, bob = client.register(), client.register()
    topic = word()
    first = client.tweet(ada, f"{topic} Running with the big red dog #Kafka")
    second = client.tweet(bob, f"{topic} the dog ran past a big red barn")
    third = client.tweet(ada, f"{topic} runs on a red big #kafka cluster")
    client.tweet(bob, "unrelated words only")

    # Chirp-After (every write of this client) waits for the index: no sleep, no retry.
    assert texts(search(client, topic)) == [third["text"], second["text"], first["text"]]
    page = search(client, f"{topic} running")  # stemmed: running, runs
    assert [t["id"] for t in page["data"]] == [third["id"], first["id"]]
    assert page["data"][0] == client.user_tweets(ada.handle)[0]  # the timelines' objects
    assert texts(search(client, f'{topic} "big red"')) == [second["text"], first["text"]]
    assert texts(search(client, f"{topic} #KAFKA")) == [third["text"], first["text"]]
    assert texts(search(client, f"{topic} from:{bob.handle.upper()}")) == [second["text"]]
    assert search(client, f"{topic} from:nosuchuser1")["data"] == []


def test_pages_follow_the_cursor_in_either_order(client: ChirpClient) -> None:
    ada = client.register()
    topic = word()
    posted = [client.tweet(ada, f"{topic} " + "echo " * n)["id"] for n in range(1, 6)]
    for sort in ("recent", "relevance"):
        seen: list[str] = []
        cursor = None
        while True:
            params = {"sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = search(client, f"{topic} echo", **params)
            seen += [item["id"] for item in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(posted), sort
        whole = search(client, f"{topic} echo", sort=sort, limit=10)
        assert seen == [item["id"] for item in whole["data"]], sort
        if sort == "recent":
            assert seen == posted[::-1]


def test_deleted_tweets_are_never_found_again(client: ChirpClient) -> None:
    ada = client.register()
    topic = word()
    kept = client.tweet(ada, f"{topic} stays")
    gone = client.tweet(ada, f"{topic} goes")
    assert len(search(client, topic)["data"]) == 2
    deleted = client.delete(f"/v1/tweets/{gone['id']}", ada)
    assert deleted.status_code == 204
    assert [item["id"] for item in search(client, topic)["data"]] == [kept["id"]]
    assert search(client, f"{topic} goes")["data"] == []


def test_a_tweet_is_searchable_soon_after_its_201_without_a_token(client: ChirpClient) -> None:
    ada = client.register()
    topic = word()
    anonymous = httpx.Client(base_url=str(client.http.base_url), timeout=10)
    try:
        client.tweet(ada, f"{topic} fresh")
        created = time.monotonic()

        def found() -> bool:
            response = anonymous.get("/v1/search/tweets", params={"q": topic})
            return response.status_code == 200 and len(response.json()["data"]) == 1

        wait_for(found, timeout_s=5.0, what="the new tweet in search", every_s=0.02)
        assert time.monotonic() - created < 1.0
    finally:
        anonymous.close()


def test_users_are_found_by_handle_or_display_name_prefix(client: ChirpClient) -> None:
    stem = word()[:8]
    ada = client.register(f"{stem}ada", display_name=f"Ada {stem.upper()}lovelace")
    bob = client.register(f"x{stem}bob", display_name=f"Bob {stem}builder")
    client.register(f"x{stem}eve", display_name="Eve")

    def handles(q: str, **params: Any) -> list[str]:
        response = client.get("/v1/search/users", params={"q": q, **params})
        assert response.status_code == 200, response.text
        return [user["handle"] for user in response.json()["data"]]

    assert sorted(handles(stem)) == sorted([ada.handle, bob.handle])  # each once
    assert handles(f"{stem}ADA") == [ada.handle]
    assert handles(f"{stem}build") == [bob.handle]
    first = client.get("/v1/search/users", params={"q": stem, "limit": 1}).json()
    assert first["next_cursor"] is not None
    rest = handles(stem, cursor=first["next_cursor"])
    assert sorted([first["data"][0]["handle"], *rest]) == sorted([ada.handle, bob.handle])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/search/tweets", {"q": '"unclosed'}),
        ("/v1/search/tweets", {"q": "from:not-a-handle"}),
        ("/v1/search/tweets", {"q": "#"}),
        ("/v1/search/tweets", {"q": "..."}),
        ("/v1/search/tweets", {"q": ""}),
        ("/v1/search/tweets", {}),
        ("/v1/search/tweets", {"q": "x" * 501}),
        ("/v1/search/tweets", {"q": "ok", "sort": "oldest"}),
        ("/v1/search/tweets", {"q": "ok", "cursor": "abc"}),
        ("/v1/search/tweets", {"q": "ok", "cursor": "-1"}),
        ("/v1/search/tweets", {"q": "ok", "limit": "0"}),
        ("/v1/search/tweets", {"q": "ok", "page": "2"}),
        ("/v1/search/users", {"q": " "}),
        ("/v1/search/users", {"q": "ok", "cursor": "1e3"}),
    ],
)
def test_bad_input_is_a_problem_not_a_crash(
    client: ChirpClient, path: str, params: dict[str, str]
) -> None:
    response = client.http.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["status"] == 422


@pytest.mark.parametrize(
    ("sort", "found_after"),
    [
        # recent: the cursor is a tweet id (older ones follow); relevance: a rank.
        ("recent", {"0": 0, "1": 0, "9999999999999999999": 1}),
        ("relevance", {"0": 1, "1": 0, "9999999999999999999": 0}),
    ],
)
def test_any_well_formed_cursor_pages_even_far_past_the_end(
    client: ChirpClient, sort: str, found_after: dict[str, int]
) -> None:
    ada = client.register()
    topic = word()
    client.tweet(ada, f"{topic} deep")
    for cursor, found in found_after.items():
        page = search(client, topic, sort=sort, cursor=cursor)
        assert (len(page["data"]), page["next_cursor"]) == (found, None), cursor


def test_a_bad_position_token_is_a_400(client: ChirpClient) -> None:
    response = client.http.get(
        "/v1/search/tweets", params={"q": "ok"}, headers={"Chirp-After": "nonsense"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON


def test_a_replayed_index_answers_as_the_live_one(
    client: ChirpClient, test_settings: Settings
) -> None:
    ada, bob = client.register(), client.register()
    topic = word()
    client.tweet(ada, f"{topic} alpha beta #one")
    gone = client.tweet(bob, f"{topic} beta gamma")
    client.tweet(bob, f"{topic} gamma delta #one")
    client.tweet(ada, f"{topic} alpha delta")
    assert client.delete(f"/v1/tweets/{gone['id']}", bob).status_code == 204
    queries = [
        topic,
        f"{topic} alpha",
        f"{topic} #one",
        f'{topic} "gamma delta"',
        f"{topic} from:{bob.handle}",
    ]
    live = {q: search(client, q) for q in queries}
    live["ranked"] = search(client, f"{topic} delta", sort="relevance")
    assert len(live[topic]["data"]) == 3
    versions = IndexVersions(test_settings.search_index_dir)
    before = versions.current()
    assert before is not None

    run_replay(test_settings, "search")

    assert versions.current() == before + 1
    # The indexer moves to the new version and deletes the old one.
    wait_for(
        lambda: versions.versions() == [before + 1], timeout_s=10, what="the old index dropped"
    )
    rebuilt = {q: search(client, q) for q in queries}
    rebuilt["ranked"] = search(client, f"{topic} delta", sort="relevance")
    assert rebuilt == live
    # And the live indexer keeps the new version current.
    late = client.tweet(ada, f"{topic} after the replay")
    assert search(client, f"{topic} replay")["data"][0]["id"] == late["id"]
