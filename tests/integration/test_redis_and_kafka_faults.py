"""Redis and Kafka faults on the multi-node topology, healed without an operator.

The Redis Cluster wiped (`FLUSHALL` on every primary), one Cluster primary killed and started
again from an older append-only file (a partial loss: the positions survive on another node,
so only the nodes' copies of them, `projections.node_positions`, tell), and Kafka unreachable
from the API (every broker stopped with SIGSTOP). After each, every write the API acknowledged
is served again as before, celebrity merge included, and writes go on. Each test prints how
long the topology took to heal and how many writes it sent, how many the API acknowledged and
how many were found afterwards.

The topology is the session's (started once, `tests/conftest.py:multi_node`); each test leaves
every process running and every broker resumed.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.crc import key_slot

from infra.local_services import RedisClusterNode
from infra.multi_node import MultiNodeTopology
from infra.wiring import sync_redis
from projections.base import POINTERS_KEY
from projections.home_timelines.keys import CELEBRITIES_KEY, CELEBRITY_MARKS_KEY
from tests.conftest import CELEBRITY_THRESHOLD
from tests.support.client import PASSWORD, Account, ChirpClient, random_handle
from tests.support.faults import report
from tests.support.waiting import wait_for

FANS = CELEBRITY_THRESHOLD + 1  # the celebrity's fans make it one
HEAL_S = 120  # bound on every wait for the topology to heal
NOTICE_S = 15  # bound on the wait for /readyz to notice a fault
WRITE_TIMEOUT_S = 20.0  # a write that hangs longer than this fails the test


@pytest.fixture
def client(topology: MultiNodeTopology) -> Iterator[ChirpClient]:
    http = ChirpClient(topology.apis[0].url)
    http.http.timeout = httpx.Timeout(WRITE_TIMEOUT_S)
    yield http
    http.close()


def bookkeeping_node(topology: MultiNodeTopology) -> RedisClusterNode:
    """The primary that holds the pointers and every positions hash."""
    slot = key_slot(POINTERS_KEY.encode())
    client = topology.redis.nodes[0].client()
    try:
        ranges = client.execute_command("CLUSTER", "SLOTS")
    finally:
        client.close()
    for first, last, primary, *_ in ranges:
        if int(first) <= slot <= int(last):
            return next(node for node in topology.redis.nodes if node.port == int(primary[1]))
    raise AssertionError(f"no primary serves slot {slot}")


def key_count(node: RedisClusterNode) -> int:
    client = node.client()
    try:
        return int(client.dbsize())
    finally:
        client.close()


# --- writes, counted ---------------------------------------------------------------------


@dataclass
class Ledger:
    """The writes a test sent, and for each one the API acknowledged, how to find it."""

    sent: int = 0
    acknowledged: list[Callable[[], bool]] = field(default_factory=list)

    def send(self, response: httpx.Response, found: Callable[[], bool]) -> httpx.Response:
        self.sent += 1
        if response.is_success:
            self.acknowledged.append(found)
        return response

    def found(self) -> int:
        return sum(1 for check in self.acknowledged if check())

    def report(self, fault: str, healed_s: float) -> str:
        return (
            f"{fault}: healed in {healed_s:.1f}s; writes sent {self.sent}, "
            f"acknowledged {len(self.acknowledged)}, found after {self.found()}"
        )


def served(client: ChirpClient, path: str, **kwargs: Any) -> Any:
    """What the API serves now, without waiting for any position."""
    response = client.http.get(path, **kwargs)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
    return response.json()


def register(client: ChirpClient, ledger: Ledger, handle: str | None = None) -> Account:
    handle = handle or random_handle("f")
    response = ledger.send(
        client.post("/v1/users", json={"handle": handle, "password": PASSWORD}),
        lambda: client.http.get(f"/v1/users/{handle}").status_code == 200,
    )
    assert response.status_code == 201, response.text
    session = client.http.post(
        "/v1/sessions", json={"handle": handle, "password": PASSWORD}, headers=client.after()
    )
    assert session.status_code == 200, session.text
    return Account(handle, response.json()["id"], session.json()["access_token"])


def tweet_found(client: ChirpClient, tweet_id: str) -> bool:
    return client.http.get(f"/v1/tweets/{tweet_id}").status_code == 200


def tweet(client: ChirpClient, ledger: Ledger, author: Account, text: str) -> str:
    response = client.post("/v1/tweets", json={"text": text}, headers=author.auth)
    ledger.send(response, lambda: tweet_found(client, response.json()["id"]))
    assert response.status_code == 201, response.text
    post_id: str = response.json()["id"]
    return post_id


def follow(client: ChirpClient, ledger: Ledger, fan: Account, followee: Account) -> None:
    def found() -> bool:
        followers = served(client, f"/v1/users/{followee.handle}/followers")["data"]
        return fan.handle in {user["handle"] for user in followers}

    response = ledger.send(client.put(f"/v1/following/{followee.handle}", fan), found)
    assert response.status_code == 204, response.text


def like(client: ChirpClient, ledger: Ledger, fan: Account, tweet_id: str) -> None:
    def found() -> bool:
        likers = served(client, f"/v1/tweets/{tweet_id}/liking_users")["data"]
        return fan.handle in {user["handle"] for user in likers}

    response = ledger.send(client.put(f"/v1/tweets/{tweet_id}/like", fan), found)
    assert response.status_code == 204, response.text


# --- a small community and what the read models show of it ---------------------------------


@dataclass
class Community:
    celebrity: Account
    author: Account
    fans: list[Account]
    tweets: list[str] = field(default_factory=list)

    @property
    def accounts(self) -> list[Account]:
        return [self.celebrity, self.author, *self.fans]


def build_community(client: ChirpClient, ledger: Ledger) -> Community:
    """A celebrity followed by every fan, an ordinary author followed by two, tweets, likes."""
    community = Community(
        register(client, ledger),
        register(client, ledger),
        [register(client, ledger) for _ in range(FANS)],
    )
    for fan in community.fans:
        follow(client, ledger, fan, community.celebrity)
    for fan in community.fans[:2]:
        follow(client, ledger, fan, community.author)
    for n in range(2):
        community.tweets.append(tweet(client, ledger, community.celebrity, f"famous #{n}"))
        community.tweets.append(tweet(client, ledger, community.author, f"ordinary #{n}"))
    for fan in community.fans[:3]:
        like(client, ledger, fan, community.tweets[0])
    like(client, ledger, community.fans[0], community.tweets[1])
    return community


def home_ids(client: ChirpClient, account: Account) -> list[str]:
    page = served(client, "/v1/timelines/home", headers=account.auth)
    return [entry["id"] for entry in page["data"]]


def view(client: ChirpClient, community: Community) -> dict[str, Any]:
    """Everything the read models serve about the community, as a client sees it now."""
    seen: dict[str, Any] = {}
    for account in community.accounts:
        handle = account.handle
        seen[f"profile {handle}"] = served(client, f"/v1/users/{handle}")
        seen[f"tweets {handle}"] = [
            t["id"] for t in served(client, f"/v1/users/{handle}/tweets")["data"]
        ]
        seen[f"followers {handle}"] = sorted(
            user["handle"] for user in served(client, f"/v1/users/{handle}/followers")["data"]
        )
        seen[f"home {handle}"] = home_ids(client, account)
    for tweet_id in community.tweets:
        shown = served(client, f"/v1/tweets/{tweet_id}")
        seen[f"tweet {tweet_id}"] = {k: shown[k] for k in ("text", "like_count", "retweet_count")}
    return seen


def settled_view(client: ChirpClient, community: Community) -> dict[str, Any]:
    """The view once every fan's home timeline shows the celebrity's tweets (merged)."""
    famous = {t["id"] for t in client.user_tweets(community.celebrity.handle)}
    wait_for(
        lambda: all(famous <= set(home_ids(client, fan)) for fan in community.fans),
        timeout_s=HEAL_S,
        what="the celebrity's tweets in every fan's home timeline",
    )
    return view(client, community)


def ready(client: ChirpClient) -> int:
    try:
        return client.http.get("/readyz").status_code
    except httpx.TransportError:
        return 0


def wait_until_healed(client: ChirpClient, community: Community, before: dict[str, Any]) -> None:
    """Ready again, and serving the community as it did before the fault."""
    wait_for(lambda: ready(client) == 200, timeout_s=HEAL_S, what="/readyz to answer 200 again")
    wait_for(
        lambda: view(client, community) == before,
        timeout_s=HEAL_S,
        what="the read models to serve what they served before the fault",
    )


def taken(write: Callable[[], httpx.Response]) -> httpx.Response:
    """The answer to a write sent again while the API says to retry (503: the broker, a node
    lease or a read model is not back yet)."""

    def answer() -> httpx.Response | None:
        response = write()
        return None if response.status_code == 503 else response

    response = wait_for(answer, timeout_s=HEAL_S, what="the API to take writes again")
    assert response is not None
    return response


def celebrity_tweet_reaches_fans(
    client: ChirpClient, ledger: Ledger, community: Community, text: str
) -> None:
    """A new tweet of the celebrity, merged into every fan's home timeline."""
    posted = taken(
        lambda: client.post("/v1/tweets", json={"text": text}, headers=community.celebrity.auth)
    )
    assert posted.status_code == 201, posted.text
    post_id = posted.json()["id"]
    ledger.send(posted, lambda: tweet_found(client, post_id))
    for fan in community.fans:

        def shown(f: Account = fan) -> bool:
            return post_id in home_ids(client, f)

        wait_for(
            shown,
            timeout_s=HEAL_S,
            what=f"the celebrity's new tweet in {fan.handle}'s home timeline",
        )


# --- the faults ------------------------------------------------------------------------------


def test_a_wiped_redis_cluster_is_rebuilt_from_the_log_and_the_edge_table(
    topology: MultiNodeTopology, client: ChirpClient, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = Ledger()
    community = build_community(client, ledger)
    before = settled_view(client, community)
    redis = sync_redis(topology.settings)
    celebrity_id = community.celebrity.user_id
    wait_for(
        lambda: bool(redis.sismember(CELEBRITIES_KEY, celebrity_id)),
        timeout_s=HEAL_S,
        what="the celebrity in the celebrity set (the edge agent's follows applied)",
    )

    for node in topology.redis.nodes:
        wiped = node.client()
        wiped.flushall()
        wiped.close()
    wiped_at = time.monotonic()

    # Claims went with the wipe; the users read model is empty until rebuilt: a registration
    # under a taken handle must still not succeed.
    taken_handle = client.post(
        "/v1/users", json={"handle": community.author.handle, "password": PASSWORD}
    )
    assert taken_handle.status_code in (409, 503), taken_handle.text
    wait_for(lambda: ready(client) == 503, timeout_s=NOTICE_S, what="/readyz to answer 503")
    wait_until_healed(client, community, before)
    healed_s = time.monotonic() - wiped_at

    assert redis.sismember(CELEBRITIES_KEY, celebrity_id)
    assert redis.hlen(CELEBRITY_MARKS_KEY) > 0
    again = client.post("/v1/users", json={"handle": community.author.handle, "password": PASSWORD})
    assert again.status_code == 409, again.text
    celebrity_tweet_reaches_fans(client, ledger, community, "famous after the wipe")
    assert ledger.found() == len(ledger.acknowledged)
    report(capsys, ledger.report("Redis Cluster FLUSHALL on every primary", healed_s))
    redis.close()


def test_a_cluster_node_restarted_from_an_older_append_only_file_catches_up(
    topology: MultiNodeTopology,
    client: ChirpClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger = Ledger()
    community = build_community(client, ledger)
    settled_view(client, community)
    # A node without the positions: only the nodes' copies of them can tell it lost data.
    bookkeeper = bookkeeping_node(topology)
    victim = max((node for node in topology.redis.nodes if node is not bookkeeper), key=key_count)
    aof_dir = victim.data_dir / "appendonlydir"
    older = tmp_path / "appendonlydir"
    shutil.copytree(aof_dir, older)

    # Written after the copy: lost by that node, kept by the log and the worker's edge table.
    rising = register(client, ledger)
    for fan in community.fans:
        follow(client, ledger, fan, rising)  # a celebrity the older file never knew
    community.fans.append(rising)  # its home timeline and profile are checked too
    for n in range(2):
        community.tweets.append(tweet(client, ledger, rising, f"rising #{n}"))
        community.tweets.append(tweet(client, ledger, community.author, f"later #{n}"))
    like(client, ledger, community.fans[2], community.tweets[-1])
    fans_of_rising = community.fans[:FANS]
    wait_for(
        lambda: all(community.tweets[-2] in home_ids(client, fan) for fan in fans_of_rising),
        timeout_s=HEAL_S,
        what="the rising celebrity's tweets in its fans' home timelines",
    )
    before = view(client, community)
    keys_before = key_count(victim)

    victim.kill()
    shutil.rmtree(aof_dir)
    shutil.copytree(older, aof_dir)
    victim.start()
    victim.wait_ready()
    restarted_at = time.monotonic()
    keys_lost = keys_before - key_count(victim)
    assert keys_lost > 0, "the older file held everything: no fault to heal"

    wait_for(lambda: ready(client) == 503, timeout_s=NOTICE_S, what="/readyz to answer 503")
    wait_until_healed(client, community, before)
    healed_s = time.monotonic() - restarted_at

    rising_fans = Community(rising, community.author, fans_of_rising)
    celebrity_tweet_reaches_fans(client, ledger, rising_fans, "rising after the restart")
    assert ledger.found() == len(ledger.acknowledged)
    report(
        capsys,
        ledger.report(
            f"Redis Cluster node SIGKILL, older append-only file ({keys_lost} keys lost)",
            healed_s,
        ),
    )


def test_writes_answer_503_while_kafka_is_unreachable_and_reads_go_on(
    topology: MultiNodeTopology, client: ChirpClient, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = Ledger()
    author, reader = register(client, ledger), register(client, ledger)
    follow(client, ledger, reader, author)
    first = tweet(client, ledger, author, "before the brokers stopped")
    wait_for(
        lambda: first in home_ids(client, reader),
        timeout_s=HEAL_S,
        what="the tweet in the reader's home timeline",
    )
    brokers = [broker.pid() for broker in topology.kafka.nodes]
    assert None not in brokers

    for pid in brokers:
        os.kill(pid, signal.SIGSTOP)  # type: ignore[arg-type]
    try:
        texts = [f"while the brokers are stopped #{n}" for n in range(3)]

        def post(text: str) -> httpx.Response:
            return client.http.post("/v1/tweets", json={"text": text}, headers=author.auth)

        started = time.monotonic()
        with ThreadPoolExecutor(len(texts) + 1) as pool:
            refused = list(pool.map(post, texts))
            liked = pool.submit(client.http.put, f"/v1/tweets/{first}/like", headers=reader.auth)
            refused.append(liked.result())
        refused_within_s = time.monotonic() - started
        for response in refused:
            ledger.sent += 1
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
        assert home_ids(client, reader) == [first]
        assert [t["id"] for t in served(client, f"/v1/users/{author.handle}/tweets")["data"]] == [
            first
        ]
    finally:
        for pid in brokers:
            os.kill(pid, signal.SIGCONT)  # type: ignore[arg-type]
    resumed_at = time.monotonic()

    posted = taken(lambda: client.post("/v1/tweets", json={"text": "after"}, headers=author.auth))
    assert posted.status_code == 201, posted.text
    after = posted.json()["id"]
    wait_for(
        lambda: after in home_ids(client, reader),
        timeout_s=HEAL_S,
        what="the write after the brokers came back in the reader's home timeline",
    )
    healed_s = time.monotonic() - resumed_at
    ledger.send(posted, lambda: after in home_ids(client, reader))
    # A 503 said the write may or may not be recorded: the producer may still deliver it.
    late = [t["text"] for t in served(client, f"/v1/users/{author.handle}/tweets")["data"]]
    assert ledger.found() == len(ledger.acknowledged)
    report(capsys, ledger.report("Kafka unreachable (every broker SIGSTOPped)", healed_s))
    report(
        capsys,
        f"the {len(refused)} writes sent meanwhile were all refused with 503 within "
        f"{refused_within_s:.1f}s; {sum(t in late for t in texts)} of the refused tweets were "
        "delivered once the brokers answered",
    )
