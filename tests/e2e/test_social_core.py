"""Follows, home timelines, likes, retweets, replies and deletes, through HTTP."""

from __future__ import annotations

from tests.conftest import CELEBRITY_THRESHOLD
from tests.support.client import ChirpClient


def test_home_timeline_shows_followees_newest_first_and_drops_unfollowed(
    client: ChirpClient,
) -> None:
    reader, ada, bob, stranger = (client.register() for _ in range(4))
    old = client.tweet(ada, "ada before the follow")["id"]
    client.follow(reader, ada)
    client.follow(reader, bob)
    assert client.ids(client.home(reader)) == [old]  # backfilled on follow
    b1 = client.tweet(bob, "bob one")["id"]
    a1 = client.tweet(ada, "ada one")["id"]
    client.tweet(stranger, "not followed")
    mine = client.tweet(reader, "my own")["id"]
    assert client.ids(client.home(reader)) == [mine, a1, b1, old]

    client.unfollow(reader, ada)
    assert client.ids(client.home(reader)) == [mine, b1]
    profile = client.get(f"/v1/users/{reader.handle}").json()
    assert (profile["following_count"], profile["followers_count"]) == (1, 0)
    followers = client.get(f"/v1/users/{bob.handle}/followers").json()["data"]
    assert [u["handle"] for u in followers] == [reader.handle]


def test_likes_are_idempotent_and_counted_exactly(client: ChirpClient) -> None:
    author, fan, other = (client.register() for _ in range(3))
    tweet = client.tweet(author, "like me")["id"]
    for _ in range(3):
        assert client.put(f"/v1/tweets/{tweet}/like", fan).status_code == 204
    assert client.put(f"/v1/tweets/{tweet}/like", other).status_code == 204
    assert client.tweet_json(tweet)["like_count"] == 2
    assert client.delete(f"/v1/tweets/{tweet}/like", other).status_code == 204
    assert client.delete(f"/v1/tweets/{tweet}/like", other).status_code == 204
    assert client.tweet_json(tweet)["like_count"] == 1
    likers = client.get(f"/v1/tweets/{tweet}/liking_users").json()["data"]
    assert [u["handle"] for u in likers] == [fan.handle]


def test_a_retweet_reaches_followers_once(client: ChirpClient) -> None:
    author, retweeter, other_retweeter, reader = (client.register() for _ in range(4))
    client.follow(reader, retweeter)
    client.follow(reader, other_retweeter)
    client.home(reader)  # the reader is active: pushes go to a stored timeline
    original = client.tweet(author, "worth sharing")["id"]
    for _ in range(2):
        assert client.put(f"/v1/tweets/{original}/retweet", retweeter).status_code == 204
    assert client.put(f"/v1/tweets/{original}/retweet", other_retweeter).status_code == 204

    home = client.home(reader)
    assert [item["retweet_of"] for item in home] == [original]
    assert home[0]["author"]["handle"] == retweeter.handle
    assert home[0]["retweeted_tweet"]["id"] == original
    assert client.tweet_json(original)["retweet_count"] == 2
    assert [t["retweet_of"] for t in client.user_tweets(retweeter.handle)] == [original]

    client.delete(f"/v1/tweets/{original}/retweet", retweeter)
    home = client.home(reader)
    assert [(i["author"]["handle"], i["retweet_of"]) for i in home] == [
        (other_retweeter.handle, original)
    ]
    assert client.tweet_json(original)["retweet_count"] == 1


def test_replies_form_a_thread(client: ChirpClient) -> None:
    alice, bob = client.register(), client.register()
    root = client.tweet(alice, "root")["id"]
    middle = client.tweet(bob, "reply", reply_to=root)["id"]
    leaf = client.tweet(alice, "reply to reply", reply_to=middle)["id"]
    second = client.tweet(alice, "second reply", reply_to=middle)["id"]
    thread = client.get(f"/v1/tweets/{middle}/thread").json()
    assert [t["id"] for t in thread["ancestors"]] == [root]
    assert thread["tweet"]["id"] == middle
    assert [t["id"] for t in thread["replies"]] == [leaf, second]
    assert client.tweet_json(root)["reply_count"] == 1
    assert client.tweet_json(middle)["reply_count"] == 2
    page = client.get(f"/v1/tweets/{middle}/thread", params={"limit": 1}).json()
    assert [t["id"] for t in page["replies"]] == [leaf] and page["next_cursor"]


def test_a_deleted_tweet_and_its_retweets_vanish_everywhere(client: ChirpClient) -> None:
    author, retweeter, reader = (client.register() for _ in range(3))
    client.follow(reader, author)
    client.follow(reader, retweeter)
    client.home(reader)
    doomed = client.tweet(author, "about to go #gone")["id"]
    kept = client.tweet(author, "stays")["id"]
    reply = client.tweet(retweeter, "a reply", reply_to=doomed)["id"]
    client.put(f"/v1/tweets/{doomed}/retweet", retweeter)
    client.put(f"/v1/tweets/{doomed}/like", reader)
    assert doomed in [i.get("retweet_of") or i["id"] for i in client.home(reader)]

    assert client.delete(f"/v1/tweets/{doomed}", retweeter).status_code == 403
    assert client.delete(f"/v1/tweets/{doomed}", author).status_code == 204

    assert client.get(f"/v1/tweets/{doomed}").status_code == 404
    home = client.home(reader)
    assert doomed not in [i["id"] for i in home] + [i.get("retweet_of") for i in home]
    assert client.ids(home) == [reply, kept]
    assert client.ids(client.user_tweets(author.handle)) == [kept]
    assert client.ids(client.user_tweets(retweeter.handle)) == [reply]
    assert client.get(f"/v1/users/{author.handle}").json()["tweet_count"] == 1
    assert client.put(f"/v1/tweets/{doomed}/like", reader).status_code == 404
    assert client.get(f"/v1/tweets/{reply}/thread").json()["ancestors"] == []


def test_a_celebrity_is_merged_into_home_timelines_at_read_time(
    client: ChirpClient, redis_client: object
) -> None:
    celebrity = client.register()
    fans = [client.register() for _ in range(CELEBRITY_THRESHOLD + 1)]
    own = {}
    for fan in fans:
        own[fan.handle] = client.tweet(fan, "a timeline of my own")["id"]
        client.follow(fan, celebrity)
        client.home(fan)  # active readers with stored timelines
    posted = client.tweet(celebrity, "hello fans")["id"]
    for fan in fans:
        assert client.ids(client.home(fan)) == [posted, own[fan.handle]]
    # Nothing was pushed: the stored timelines do not hold the tweet.
    from tests.support.read_models import home_members, serving_home_keys

    keys = serving_home_keys(redis_client)
    for fan in fans:
        assert redis_client.exists(keys.home(int(fan.user_id)))  # stored, so a push could land
        assert posted not in home_members(redis_client, fan.user_id)


def test_users_me_is_the_caller_s_own_profile(client: ChirpClient) -> None:
    account = client.register()
    client.tweet(account, "counted on my profile")
    mine = client.get("/v1/users/me", headers=account.auth)
    assert mine.status_code == 200
    assert mine.json()["handle"] == account.handle
    assert mine.json()["tweet_count"] == 1
    assert client.get("/v1/users/me").status_code == 401
    assert (
        client.post("/v1/users", json={"handle": "Me", "password": "long enough pw"}).status_code
        == 422
    )
