"""A worker that lost its RocksDB directory gets its follow-edge table back from the table's
changelog topic: after a restart, an author's new tweet is still pushed to every follower."""

from __future__ import annotations

import shutil

from redis import Redis

from infra.app_processes import WorkerProcess
from tests.support.client import Account, ChirpClient
from tests.support.read_models import home_members, serving_home_keys
from tests.support.waiting import wait_for

FOLLOWERS = 3  # fewer than the tests' celebrity threshold: the author's tweets are pushed
CATCH_UP_S = 60


def test_follow_edges_come_back_from_the_changelog_after_the_rocksdb_directory_is_lost(
    client: ChirpClient, worker: WorkerProcess, redis_client: Redis
) -> None:
    author = client.register()
    followers = [client.register() for _ in range(FOLLOWERS)]
    client.tweet(author, "before the graph")
    homes = serving_home_keys(redis_client)

    def stored_home(follower: Account) -> bool:
        # A read stores the timeline once the follow has reached the worker's edge table.
        return bool(client.home(follower)) and bool(
            redis_client.exists(homes.home(int(follower.user_id)))
        )

    for follower in followers:
        client.follow(follower, author)
        wait_for(lambda f=follower: stored_home(f), timeout_s=10, what="a stored home timeline")

    worker.stop()
    assert worker.tables_dir.is_dir()
    shutil.rmtree(worker.tables_dir)
    worker.start()
    worker.wait_ready()

    # The stored timelines are still there: only a push, which needs the edges, can add to them.
    for follower in followers:
        assert redis_client.exists(homes.home(int(follower.user_id)))
    posted = client.tweet(author, "after the worker lost its disk")["id"]
    for follower in followers:
        wait_for(
            lambda f=follower: posted in home_members(redis_client, f.user_id),
            timeout_s=CATCH_UP_S,
            what=f"the tweet pushed to follower {follower.handle}",
        )
    assert worker.tables_dir.is_dir()  # the restored table is on disk again
