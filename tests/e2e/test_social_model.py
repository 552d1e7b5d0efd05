"""Random sequences of social actions through the real stack, checked against a plain model.

Every home timeline, user timeline, follower list and count is compared with a reference
model after the sequence, and again after a replay of every projection those reads use, on a
single Redis and on a Redis Cluster.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from infra.settings import Settings
from tests.support.client import Account, ChirpClient
from tests.support.replay import replay_in_process
from tests.support.stacks import Stack

USERS = 5  # below the test celebrity threshold: every author is pushed
STEPS = 140


@dataclass
class TweetModel:
    tweet_id: str
    author: str
    order: int
    reply_to: str | None = None
    deleted: bool = False
    likers: set[str] = field(default_factory=set)


@dataclass
class RetweetModel:
    user: str
    tweet_id: str
    order: int


@dataclass
class SocialModel:
    """The plain-Python reference: what every read should show."""

    handles: list[str]
    follows: set[tuple[str, str]] = field(default_factory=set)
    tweets: dict[str, TweetModel] = field(default_factory=dict)
    retweets: dict[tuple[str, str], RetweetModel] = field(default_factory=dict)
    clock: int = 0

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def live(self) -> list[TweetModel]:
        return [t for t in self.tweets.values() if not t.deleted]

    def entries_by(self, user: str) -> list[tuple[int, tuple[str, str, str]]]:
        """(order, (kind, actor, original)) of a user's live posts and retweets."""
        posts = [(t.order, ("post", user, t.tweet_id)) for t in self.live() if t.author == user]
        shared = [
            (r.order, ("rt", user, r.tweet_id))
            for r in self.retweets.values()
            if r.user == user and not self.tweets[r.tweet_id].deleted
        ]
        return posts + shared

    def user_timeline(self, user: str) -> list[tuple[str, str, str]]:
        return [entry for _, entry in sorted(self.entries_by(user), reverse=True)]

    def home(self, user: str) -> list[tuple[str, str, str]]:
        sources = {user} | {followee for follower, followee in self.follows if follower == user}
        earliest: dict[str, tuple[int, tuple[str, str, str]]] = {}
        for source in sources:
            for order, entry in self.entries_by(source):
                original = entry[2]
                if original not in earliest or order < earliest[original][0]:
                    earliest[original] = (order, entry)
        return [entry for _, entry in sorted(earliest.values(), reverse=True)]

    def followers(self, user: str) -> set[str]:
        return {follower for follower, followee in self.follows if followee == user}

    def following(self, user: str) -> set[str]:
        return {followee for follower, followee in self.follows if follower == user}


class Driver:
    """Performs random actions through HTTP and mirrors them in the model."""

    def __init__(self, client: ChirpClient, rng: random.Random) -> None:
        self.client = client
        self.rng = rng
        self.accounts: dict[str, Account] = {}
        for _ in range(USERS):
            account = client.register()
            self.accounts[account.handle] = account
        self.model = SocialModel(list(self.accounts))

    def someone(self) -> str:
        return self.rng.choice(self.model.handles)

    def some_live_tweet(self) -> TweetModel | None:
        live = self.model.live()
        return self.rng.choice(live) if live else None

    def step(self) -> None:
        action = self.rng.choices(
            ["post", "reply", "follow", "unfollow", "like", "unlike", "retweet", "undo", "delete"],
            weights=[5, 2, 4, 2, 3, 2, 3, 1, 1],
        )[0]
        getattr(self, action)()

    def post(self, reply_to: str | None = None) -> None:
        author = self.someone()
        fields = {"reply_to": reply_to} if reply_to else {}
        tweet = self.client.tweet(self.accounts[author], f"#model {self.model.clock}", **fields)
        self.model.tweets[tweet["id"]] = TweetModel(
            tweet["id"], author, self.model.tick(), reply_to
        )

    def reply(self) -> None:
        target = self.some_live_tweet()
        self.post(reply_to=target.tweet_id if target else None)

    def follow(self) -> None:
        follower, followee = self.rng.sample(self.model.handles, 2)
        self.client.follow(self.accounts[follower], self.accounts[followee])
        self.model.follows.add((follower, followee))

    def unfollow(self) -> None:
        follower, followee = self.rng.sample(self.model.handles, 2)
        self.client.unfollow(self.accounts[follower], self.accounts[followee])
        self.model.follows.discard((follower, followee))

    def _tweet_action(self, method: str, suffix: str) -> tuple[str, TweetModel] | None:
        target = self.some_live_tweet()
        if target is None:
            return None
        user = self.someone()
        path = f"/v1/tweets/{target.tweet_id}/{suffix}"
        send = self.client.put if method == "PUT" else self.client.delete
        assert send(path, self.accounts[user]).status_code == 204
        return user, target

    def like(self) -> None:
        if done := self._tweet_action("PUT", "like"):
            done[1].likers.add(done[0])

    def unlike(self) -> None:
        if done := self._tweet_action("DELETE", "like"):
            done[1].likers.discard(done[0])

    def retweet(self) -> None:
        if done := self._tweet_action("PUT", "retweet"):
            user, target = done
            key = (user, target.tweet_id)
            if key not in self.model.retweets:
                self.model.retweets[key] = RetweetModel(user, target.tweet_id, self.model.tick())

    def undo(self) -> None:
        if done := self._tweet_action("DELETE", "retweet"):
            self.model.retweets.pop((done[0], done[1].tweet_id), None)

    def delete(self) -> None:
        target = self.some_live_tweet()
        if target is None:
            return
        response = self.client.delete(f"/v1/tweets/{target.tweet_id}", self.accounts[target.author])
        assert response.status_code == 204
        target.deleted = True


def shown(item: dict[str, Any]) -> tuple[str, str, str]:
    if item["retweet_of"]:
        return ("rt", item["author"]["handle"], item["retweet_of"])
    return ("post", item["author"]["handle"], item["id"])


def check_against_model(driver: Driver) -> None:
    client, model = driver.client, driver.model
    wait = client.after()
    for handle, account in driver.accounts.items():
        home = client.http.get(
            "/v1/timelines/home", params={"limit": 100}, headers={**wait, **account.auth}
        )
        assert "Chirp-Stale" not in home.headers
        assert [shown(i) for i in home.json()["data"]] == model.home(handle), f"home of {handle}"
        own = client.http.get(f"/v1/users/{handle}/tweets", params={"limit": 100}, headers=wait)
        assert [shown(i) for i in own.json()["data"]] == model.user_timeline(handle)
        profile = client.http.get(f"/v1/users/{handle}", headers=wait).json()
        assert profile["followers_count"] == len(model.followers(handle))
        assert profile["following_count"] == len(model.following(handle))
        assert profile["tweet_count"] == sum(t.author == handle for t in model.live())
        for relation, expected in (
            ("followers", model.followers(handle)),
            ("following", model.following(handle)),
        ):
            listed = client.http.get(
                f"/v1/users/{handle}/{relation}", params={"limit": 100}, headers=wait
            ).json()["data"]
            assert {user["handle"] for user in listed} == expected, f"{relation} of {handle}"
    for tweet in model.tweets.values():
        response = client.http.get(f"/v1/tweets/{tweet.tweet_id}", headers=wait)
        if tweet.deleted:
            assert response.status_code == 404
            continue
        body = response.json()
        assert body["like_count"] == len(tweet.likers)
        assert body["retweet_count"] == sum(
            r.tweet_id == tweet.tweet_id for r in model.retweets.values()
        )
        assert body["reply_count"] == sum(t.reply_to == tweet.tweet_id for t in model.live())


# What the model's checks read: timelines, tweets and their counts, profiles, the graph.
CHECKED_PROJECTIONS = (
    "users",
    "tweets",
    "user_timelines",
    "likes",
    "follow_graph",
    "home_timelines",
)


def replay_checked(settings: Settings) -> None:
    """Rebuild every projection the checks read, as `chirp replay` does (in this process:
    `tests/integration/test_replay.py` runs the command itself)."""
    for name in CHECKED_PROJECTIONS:
        replay_in_process(settings, name, drop_grace_s=0.2)


@pytest.mark.parametrize("seed", [7, 2026])
def test_random_social_sequences_match_the_model_before_and_after_replay(
    stack: Stack, seed: int
) -> None:
    driver = Driver(stack.client, random.Random(seed))
    for _ in range(STEPS):
        driver.step()
    model = driver.model
    assert model.follows and model.retweets and any(t.deleted for t in model.tweets.values())
    assert any(t.reply_to for t in model.live()) and any(t.likers for t in model.live())
    check_against_model(driver)
    replay_checked(stack.settings)
    check_against_model(driver)
