"""Account erasure through HTTP against the running stack (real Kafka and Redis).

An account that did a bit of everything is erased with `DELETE /v1/users/me`; then no read
shows any of it (profile, tweets, timelines, counts, follower lists, likers, search, notifications,
trends, media), before and after every projection is replayed from the log, and `chirp
erasures` lists it without personal data. On the log itself her personal fields were sealed
from the start, and once she is erased nothing that reads the log can open them. A wrong
password or no token produces nothing; the account's token and password stop working; its
handle is not given out again.
"""

from __future__ import annotations

import io
import json
import secrets
import subprocess
import sys
from typing import Any

import httpx
import pytest
from PIL import Image
from redis import Redis

from domain.events import Event, MediaUploaded, TweetPosted, UserRegistered
from infra.app_processes import settings_environment
from infra.indexer import SEARCH_INDEX
from infra.log_reader import LogReader
from infra.personal_keys import FileKeys
from infra.settings import Settings
from infra.topics import chirp_topics, end_offsets
from infra.wiring import event_codec
from projections.registry import PROJECTION_FAMILIES
from schemas import EventDecodeError, spec_of
from schemas.sealing import KeyDestroyed
from tests.support.client import PASSWORD, Account, ChirpClient
from tests.support.read_models import serving_namespace
from tests.support.redis_snapshot import snapshot
from tests.support.replay import replay_in_process
from tests.support.waiting import wait_for

PROBLEM_JSON = "application/problem+json"


def fresh(client: ChirpClient, path: str, account: Account | None = None, **params: Any) -> Any:
    """A 200 read that has applied every write of this client (asked again while stale)."""
    headers = account.auth if account is not None else {}

    def read() -> httpx.Response | None:
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == 200, f"{path}: {response.text}"
        return None if "Chirp-Stale" in response.headers else response

    answer = wait_for(read, timeout_s=30, what=f"a fresh {path}")
    return answer.json()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def erase(client: ChirpClient, account: Account, password: str) -> httpx.Response:
    response = client.http.request(
        "DELETE", "/v1/users/me", json={"password": password}, headers=account.auth
    )
    return client._remember(response)


def ids_in(value: Any) -> set[str]:
    """Every id-like string anywhere in a JSON document."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in {"id", "author_id", "user_id"} and isinstance(item, str):
                found.add(item)
            found |= ids_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= ids_in(item)
    return found


class Scene:
    """Ada (to be erased) and what she did; Bob and Cat, who stay."""

    def __init__(self, client: ChirpClient) -> None:
        self.client = client
        self.tag = f"erase{secrets.token_hex(4)}"
        self.ada_name = f"Ada Lovelace {secrets.token_hex(4)}"
        self.ada_alt_text = f"Ada's garden in May {secrets.token_hex(4)}"
        self.ada = client.register(display_name=self.ada_name)
        self.bob, self.cat = client.register(), client.register()
        ada, bob, cat = self.ada, self.bob, self.cat
        uploaded = client.post(
            "/v1/media",
            files={"file": ("a.jpg", jpeg(), "application/octet-stream")},
            data={"alt_text": self.ada_alt_text},
            headers=ada.auth,
        )
        assert uploaded.status_code == 201, uploaded.text
        self.media_id = uploaded.json()["media_id"]
        self.ada_texts = (
            f"hello #{self.tag} @{bob.handle}",
            f"a photo {secrets.token_hex(4)}",
            f"a reply #{self.tag}",
        )
        self.ada_tweet = client.tweet(ada, self.ada_texts[0])["id"]
        self.ada_media_tweet = client.tweet(ada, self.ada_texts[1], media_ids=[self.media_id])["id"]
        self.bob_tweet = client.tweet(bob, f"bob speaks #{self.tag}")["id"]
        self.ada_reply = client.tweet(ada, self.ada_texts[2], reply_to=self.bob_tweet)["id"]
        self.cat_reply = client.tweet(cat, "cat replies to ada", reply_to=self.ada_tweet)["id"]
        for path, who in (
            (f"/v1/tweets/{self.bob_tweet}/retweet", ada),
            (f"/v1/tweets/{self.ada_tweet}/retweet", bob),
            (f"/v1/tweets/{self.bob_tweet}/like", ada),
            (f"/v1/tweets/{self.ada_tweet}/like", bob),
            (f"/v1/tweets/{self.ada_tweet}/like", cat),
            (f"/v1/tweets/{self.bob_tweet}/bookmark", ada),
            (f"/v1/tweets/{self.ada_tweet}/bookmark", cat),
        ):
            response = client.put(path, who)
            assert response.status_code == 204, f"{path}: {response.text}"
        client.follow(ada, bob)
        client.follow(bob, ada)
        client.follow(cat, ada)
        self.ada_list = self.make_list(ada, bob)
        self.bob_list = self.make_list(bob, ada)

    def make_list(self, owner: Account, member: Account) -> str:
        made = self.client.post("/v1/lists", json={"name": "people"}, headers=owner.auth)
        assert made.status_code == 201, made.text
        list_id: str = made.json()["id"]
        added = self.client.put(f"/v1/lists/{list_id}/members/{member.handle}", owner)
        assert added.status_code == 204, added.text
        return list_id

    @property
    def ada_tweets(self) -> list[str]:
        return [self.ada_tweet, self.ada_media_tweet, self.ada_reply]

    def assert_ada_is_everywhere(self) -> None:
        """Before: the reads show what Ada did (so the checks after could fail)."""
        client, ada, bob, cat = self.client, self.ada, self.bob, self.cat
        assert fresh(client, f"/v1/users/{ada.handle}")["followers_count"] == 2
        bob_tweet = fresh(client, f"/v1/tweets/{self.bob_tweet}")
        assert (bob_tweet["like_count"], bob_tweet["retweet_count"]) == (1, 1)
        assert bob_tweet["reply_count"] == 1
        assert ada.user_id in ids_in(fresh(client, f"/v1/users/{bob.handle}/followers"))
        assert self.ada_tweet in ids_in(fresh(client, "/v1/timelines/home", cat))
        assert ada.user_id in ids_in(fresh(client, "/v1/notifications", bob))
        found = fresh(client, "/v1/search/tweets", q=f"#{self.tag}")
        assert {self.ada_tweet, self.ada_reply} <= ids_in(found)
        assert ada.user_id in ids_in(fresh(client, "/v1/search/users", q=ada.handle))
        assert client.get(f"/media/{self.media_id}").status_code == 200

    def assert_ada_is_nowhere(self) -> None:
        client, ada, bob, cat = self.client, self.ada, self.bob, self.cat
        gone = client.get(f"/v1/users/{ada.handle}")
        assert gone.status_code == 404 and gone.headers["content-type"] == PROBLEM_JSON
        for path in (f"/v1/users/{ada.handle}/tweets", f"/v1/users/{ada.handle}/followers"):
            assert client.get(path).status_code == 404, path
        for tweet_id in self.ada_tweets:
            assert client.get(f"/v1/tweets/{tweet_id}").status_code == 404, tweet_id
        assert client.get(f"/media/{self.media_id}").status_code == 404
        bob_tweet = fresh(client, f"/v1/tweets/{self.bob_tweet}")
        assert (bob_tweet["like_count"], bob_tweet["retweet_count"]) == (0, 0)
        assert bob_tweet["reply_count"] == 0
        bob_profile = fresh(client, f"/v1/users/{bob.handle}")
        assert (bob_profile["followers_count"], bob_profile["following_count"]) == (0, 0)
        assert fresh(client, f"/v1/users/{cat.handle}")["following_count"] == 0
        reads: list[tuple[str, Account | None, dict[str, Any]]] = [
            (f"/v1/users/{bob.handle}/followers", None, {}),
            (f"/v1/users/{bob.handle}/following", None, {}),
            (f"/v1/users/{cat.handle}/following", None, {}),
            (f"/v1/users/{bob.handle}/tweets", None, {}),
            (f"/v1/tweets/{self.bob_tweet}/liking_users", None, {}),
            (f"/v1/tweets/{self.bob_tweet}/thread", None, {}),
            ("/v1/timelines/home", bob, {}),
            ("/v1/timelines/home", cat, {}),
            ("/v1/notifications", bob, {}),
            ("/v1/bookmarks", cat, {}),
            (f"/v1/lists/{self.bob_list}/members", bob, {}),
            (f"/v1/lists/{self.bob_list}/timeline", bob, {}),
            ("/v1/search/tweets", None, {"q": f"#{self.tag}"}),
            ("/v1/search/tweets", None, {"q": f"from:{ada.handle}"}),
            ("/v1/search/users", None, {"q": ada.handle}),
            ("/v1/trends", None, {}),
        ]
        forbidden = {ada.user_id, *self.ada_tweets, self.media_id}
        for path, reader, params in reads:
            body = fresh(client, path, reader, **params)
            assert not ids_in(body) & forbidden, f"{path} shows {ids_in(body) & forbidden}"
        # Bob's own tweet and Cat's reply to Ada's deleted tweet are still there.
        assert self.bob_tweet in ids_in(fresh(client, f"/v1/users/{bob.handle}/tweets"))
        assert client.get(f"/v1/tweets/{self.cat_reply}").status_code == 200
        counted = fresh(client, "/v1/notifications/unread_count", bob)["count"]
        assert counted == 0
        trends = fresh(client, "/v1/trends")["data"]
        assert [t["count"] for t in trends if t["hashtag"] == self.tag] in ([], [1])


@pytest.fixture
def scene(client: ChirpClient) -> Scene:
    return Scene(client)


def log_end(settings: Settings) -> dict[tuple[str, int], int]:
    return end_offsets(settings, chirp_topics(settings))


def chirp(settings: Settings, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "infra.cli", *args],
        env=settings_environment(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_refused_erasures_produce_nothing(
    client: ChirpClient, scene: Scene, test_settings: Settings
) -> None:
    before = log_end(test_settings)

    wrong = erase(client, scene.ada, "not my password")
    anonymous = client.http.request("DELETE", "/v1/users/me", json={"password": PASSWORD})
    no_body = client.http.request("DELETE", "/v1/users/me", headers=scene.ada.auth)

    assert wrong.status_code == 403 and wrong.headers["content-type"] == PROBLEM_JSON
    assert wrong.json()["title"] == "Password mismatch"
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == PROBLEM_JSON
    assert no_body.status_code == 422
    assert log_end(test_settings) == before
    assert fresh(client, f"/v1/users/{scene.ada.handle}")["id"] == scene.ada.user_id


@pytest.mark.timeout(1500)  # thirteen replays, each a process reading the whole log
def test_an_erased_account_leaves_no_trace_in_any_read_even_after_replays(
    client: ChirpClient, scene: Scene, test_settings: Settings, redis_client: Redis
) -> None:
    scene.assert_ada_is_everywhere()
    stored = test_settings.media_store_dir / scene.media_id
    assert stored.is_dir() and any(stored.iterdir())

    erased = erase(client, scene.ada, PASSWORD)

    assert erased.status_code == 202, erased.text
    body = erased.json()
    assert body["user_id"] == scene.ada.user_id
    assert (body["tweets_deleted"], body["retweets_undone"], body["likes_removed"]) == (3, 1, 1)
    assert (body["follows_removed"], body["media_removed"]) == (3, 1)
    assert not stored.exists()  # the bytes go once the erasure is acknowledged
    scene.assert_ada_is_nowhere()

    # The account is gone for good: its token, its password, its handle.
    for method, path in (
        ("GET", "/v1/timelines/home"),
        ("PUT", f"/v1/tweets/{scene.bob_tweet}/like"),
    ):
        refused = client.http.request(method, path, headers=scene.ada.auth)
        assert refused.status_code == 401, f"{method} {path}: {refused.text}"
    login = client.http.post(
        "/v1/sessions", json={"handle": scene.ada.handle, "password": PASSWORD}
    )
    assert login.status_code == 401
    taken = client.post("/v1/users", json={"handle": scene.ada.handle, "password": PASSWORD})
    assert taken.status_code == 409
    followed = client.put(f"/v1/following/{scene.ada.handle}", scene.bob)
    assert followed.status_code == 404

    # Every projection rebuilt from the log comes out without her, and equal to the live one.
    # (In this process: `chirp replay` as a command is tested in tests/integration/test_replay.py.)
    compared = {"users", "likes", "media", "follow_graph", "user_timelines"}  # changed here
    for name in [*PROJECTION_FAMILIES, SEARCH_INDEX]:
        if name not in compared:
            replay_in_process(test_settings, name, drop_grace_s=0.2)
            continue
        live = snapshot(redis_client, serving_namespace(redis_client, name))
        assert live, name
        replay_in_process(test_settings, name, drop_grace_s=0.2)
        assert snapshot(redis_client, serving_namespace(redis_client, name)) == live, name
    scene.assert_ada_is_nowhere()

    # The lineage: her id, when, what went; nothing personal.
    listed = chirp(test_settings, "erasures", "--json")
    lines = [json.loads(line) for line in listed.splitlines() if line.strip()]
    mine = [line for line in lines if line["user_id"] == scene.ada.user_id]
    assert len(mine) == 1 and mine[0]["tweets_deleted"] == 3
    assert mine[0]["media_ids"] == [scene.media_id]
    assert scene.ada.handle not in listed
    table = chirp(test_settings, "erasures")
    assert scene.ada.user_id in table and scene.ada.handle not in table


def own_events_on_the_log(settings: Settings, user_id: int) -> list[tuple[bytes, Event]]:
    """Every event on the log whose personal fields are the user's, as its stored bytes and as a
    process started now decodes them (a replay, a new analytics consumer), in log order per
    partition (the order partitions are fetched in varies from one read to the next)."""
    codec = event_codec(settings)
    families = ("users", "tweets", "media")
    reader = LogReader(settings.bootstrap_servers, [settings.topic(f) for f in families])
    unread = {field: end for field, end in reader.log_end.items() if end > 0}
    found: dict[tuple[str, int, int], tuple[bytes, Event]] = {}

    def read_all() -> bool:
        for record in reader.read(10_000, 0.5):
            field = f"{record.topic}:{record.partition}"
            if record.offset + 1 >= unread.get(field, 0):
                unread.pop(field, None)
            try:
                event = codec.decode(record.value)
            except EventDecodeError:
                continue  # other tests put undecodable records on the log
            owner = spec_of(event).sealed_by
            if owner and getattr(event, owner) == user_id:
                found[(record.topic, record.partition, record.offset)] = (record.value, event)
        return not unread

    try:
        wait_for(read_all, timeout_s=120, what="the whole log read")
    finally:
        reader.close()
    return [found[position] for position in sorted(found)]


def test_an_erased_account_s_personal_fields_are_unreadable_on_the_log(
    client: ChirpClient, scene: Scene, test_settings: Settings
) -> None:
    ada_id = int(scene.ada.user_id)
    personal = [*scene.ada_texts, scene.ada_name, scene.ada_alt_text]
    before = own_events_on_the_log(test_settings, ada_id)
    # Sealed on the log, yet readable with her key (so the checks after the erasure could fail).
    for value, _ in before:
        assert not [words for words in personal if words.encode() in value]
    tweets = {e.text: e for _, e in before if isinstance(e, TweetPosted)}
    assert set(tweets) == set(scene.ada_texts)
    assert tweets[scene.ada_texts[1]].media_ids == (int(scene.media_id),)
    names = [e.display_name for _, e in before if isinstance(e, UserRegistered)]
    assert names == [scene.ada_name]
    alt_texts = [e.alt_text for _, e in before if isinstance(e, MediaUploaded)]
    assert alt_texts == [scene.ada_alt_text]

    assert erase(client, scene.ada, PASSWORD).status_code == 202

    after = own_events_on_the_log(test_settings, ada_id)
    assert [value for value, _ in after] == [value for value, _ in before]  # the log is as it was
    for _, event in after:
        if isinstance(event, TweetPosted):
            assert (event.text, event.media_ids, event.location) == ("", (), None)
            assert event.hashtags == () or event.hashtags == (scene.tag,)  # not personal
        elif isinstance(event, UserRegistered):
            assert (event.display_name, event.email) == ("", None)
            assert event.handle == scene.ada.handle
        elif isinstance(event, MediaUploaded):
            assert event.alt_text is None
    assert FileKeys(test_settings.personal_keys_path).key_of(ada_id) is None
    # Nothing more is ever sealed under a key of hers.
    with pytest.raises(KeyDestroyed):
        FileKeys(test_settings.personal_keys_path).key_for_writing(ada_id)


def test_a_second_erasure_request_from_the_same_token_is_refused(
    client: ChirpClient, scene: Scene
) -> None:
    assert erase(client, scene.ada, PASSWORD).status_code == 202
    # Asked again at once: the use case waits for the users read model, which names nobody.
    assert erase(client, scene.ada, PASSWORD).status_code == 401
