"""`chirp replay` rebuilds a projection from the log while the old version keeps serving
(on a single Redis and on a Redis Cluster)."""

from __future__ import annotations

import threading

from infra.redis_clients import SyncRedisClient
from projections.base import Namespace
from tests.support.read_models import building_version, serving_namespace
from tests.support.redis_snapshot import snapshot
from tests.support.replay import run_replay
from tests.support.stacks import Stack

AUTHORS = 4
TWEETS_PER_AUTHOR = 60


def serving(redis: SyncRedisClient, projection: str) -> Namespace:
    return serving_namespace(redis, projection)


def test_replay_rebuilds_user_timelines_while_reads_keep_answering(stack: Stack) -> None:
    client, redis_client = stack.client, stack.redis
    authors = [client.register() for _ in range(AUTHORS)]
    for i in range(TWEETS_PER_AUTHOR):
        for author in authors:
            client.tweet(author, f"tweet {i} by {author.handle}")
    expected = {a.handle: client.user_tweets(a.handle, limit=100) for a in authors}
    assert all(len(tweets) == TWEETS_PER_AUTHOR for tweets in expected.values())
    old = serving(redis_client, "user_timelines")
    before = snapshot(redis_client, old)

    failures: list[str] = []
    reads = 0
    done = threading.Event()

    def poll() -> None:
        nonlocal reads
        while not done.is_set():
            for author in authors:
                response = client.http.get(
                    f"/v1/users/{author.handle}/tweets", params={"limit": 100}
                )
                reads += 1
                if response.status_code != 200:
                    failures.append(f"{response.status_code}: {response.text}")
                elif response.json()["data"] != expected[author.handle]:
                    failures.append(f"{author.handle} read {len(response.json()['data'])} tweets")

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        run_replay(stack.settings, "user_timelines")
    finally:
        done.set()
        reader.join()

    assert reads > 10
    assert failures == []
    new = serving(redis_client, "user_timelines")
    assert new.version == old.version + 1
    assert building_version(redis_client, "user_timelines") is None
    assert snapshot(redis_client, new) == before
    assert snapshot(redis_client, old) == {}  # the old version is dropped
    assert {a.handle: client.user_tweets(a.handle, limit=100) for a in authors} == expected


def test_replay_keeps_up_with_writes_made_during_the_rebuild(stack: Stack) -> None:
    client = stack.client
    author = client.register()
    for i in range(20):
        client.tweet(author, f"before {i}")
    writer_done = threading.Event()
    posted_during: list[str] = []

    def keep_posting() -> None:
        while not writer_done.is_set():
            posted_during.append(client.tweet(author, f"during {len(posted_during)}")["id"])

    writer = threading.Thread(target=keep_posting)
    writer.start()
    try:
        run_replay(stack.settings, "tweets")
    finally:
        writer_done.set()
        writer.join()
    assert posted_during, "no writes happened during the replay"
    for tweet_id in posted_during:
        response = client.get(f"/v1/tweets/{tweet_id}")
        assert response.status_code == 200, f"tweet {tweet_id} lost by the rebuild"
        assert "Chirp-Stale" not in response.headers
