"""Push fan-out reaches active followers only; an expired timeline is rebuilt on read (on a
single Redis and on a Redis Cluster)."""

from __future__ import annotations

from tests.support.read_models import home_members, serving_home_keys
from tests.support.stacks import Stack
from tests.support.waiting import wait_for


def test_pushes_reach_active_followers_and_skip_inactive_ones(stack: Stack) -> None:
    client, redis_client, inactive_s = stack.client, stack.redis, stack.settings.inactive_s
    author, active, inactive = client.register(), client.register(), client.register()
    keys = serving_home_keys(redis_client)
    active_home = keys.home(int(active.user_id))
    inactive_home = keys.home(int(inactive.user_id))
    client.tweet(author, "already there")
    for follower in (active, inactive):
        client.follow(follower, author)
        # Reading makes a follower active; the timeline is stored once the new edge has
        # reached the worker's graph table.
        wait_for(
            lambda f=follower: client.home(f) and redis_client.exists(keys.home(int(f.user_id))),
            timeout_s=10,
            what="a stored home timeline",
        )
    ttl = redis_client.ttl(active_home)
    assert inactive_s - 60 < ttl <= inactive_s

    # The inactive follower's timeline expires, as it would after CHIRP_INACTIVE_DAYS.
    redis_client.delete(inactive_home, keys.orig(int(inactive.user_id)))
    posted = client.tweet(author, "pushed to whoever is around")["id"]
    client.get(f"/v1/tweets/{posted}")  # fan-out is in the same transaction as the tweet

    assert posted in home_members(redis_client, active.user_id)
    assert not redis_client.exists(inactive_home)  # nothing was written for them
    assert client.ids(client.home(inactive))[0] == posted  # rebuilt on read
    assert posted in home_members(redis_client, inactive.user_id)
