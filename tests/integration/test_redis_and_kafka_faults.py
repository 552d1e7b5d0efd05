"""Redis and Kafka faults on a private stack of real processes, healed without an operator.

Redis wiped (`FLUSHALL`), Redis killed and started again from an older append-only file, and
Kafka unreachable from the API (the broker stopped with SIGSTOP). After each, every write the
API acknowledged is served again as before, celebrity merge included, and writes go on. Each
test prints how long the stack took to heal and how many writes it sent, how many the API
acknowledged and how many were found afterwards (`pytest -s` shows them).

The stack is this module's own (broker, Redis with its append-only file, one worker, one API
on free ports), so killing its Redis or stopping its broker disturbs no other test.
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

from infra.app_processes import ApiProcess, WorkerProcess
from infra.local_services import KafkaBroker, LocalService, RedisServer, free_ports
from infra.settings import Settings
from infra.topics import ensure_topics
from projections.home_timelines.keys import CELEBRITIES_KEY, CELEBRITY_MARKS_KEY
from tests.conftest import SESSION_RATE_LIMITS, TEST_JWT_SECRET
from tests.support.client import PASSWORD, Account, ChirpClient, random_handle
from tests.support.waiting import wait_for

CELEBRITY_THRESHOLD = 3  # the celebrity's four fans make it one
FANS = 4
HEAL_S = 90  # bound on every wait for the stack to heal
NOTICE_S = 15  # bound on the wait for /readyz to notice a fault
WRITE_TIMEOUT_S = 20.0  # a write that hangs longer than this fails the test


@dataclass
class FaultStack:
    settings: Settings
    kafka: KafkaBroker
    redis: RedisServer
    worker: WorkerProcess
    api: ApiProcess

    @property
    def aof_dir(self) -> Path:
        return self.redis.data_dir / "appendonlydir"


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    kafka_port, controller_port, redis_port, api_port = free_ports(4)
    settings = Settings(
        _env_file=None,
        environment="test",
        jwt_secret=TEST_JWT_SECRET,
        var_dir=tmp_path_factory.mktemp("chirp-faults"),
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        redis_port=redis_port,
        api_port=api_port,
        topic_partitions=4,
        celebrity_threshold=CELEBRITY_THRESHOLD,
        ready_max_lag_events=0,  # not ready while any serving projection lags at all
        **SESSION_RATE_LIMITS,  # many registrations from one address: limits never reached
        worker_metrics_port=0,  # the session's worker has the metrics port
    )
    stack = FaultStack(
        settings,
        KafkaBroker(settings),
        RedisServer(settings),
        WorkerProcess(settings),
        ApiProcess(settings),
    )
    started: list[LocalService] = []
    try:
        for server in (stack.kafka, stack.redis):
            server.start()
            started.append(server)
        stack.kafka.wait_ready()
        ensure_topics(settings, timeout=settings.startup_timeout_s)
        stack.redis.wait_ready()
        for process in (stack.worker, stack.api):
            process.start()
            started.append(process)
        stack.worker.wait_ready()
        stack.api.wait_ready()
        yield stack
    finally:
        broker = stack.kafka.pid()
        if broker is not None:
            os.kill(broker, signal.SIGCONT)  # a test that failed while it was stopped
        for service in reversed(started):
            service.stop()


@pytest.fixture
def client(fault_stack: FaultStack) -> Iterator[ChirpClient]:
    http = ChirpClient(fault_stack.api.url)
    http.http.timeout = httpx.Timeout(WRITE_TIMEOUT_S)
    yield http
    http.close()


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

    def report(self, fault: str, healed_s: float) -> None:
        print(
            f"\n[{fault}] healed in {healed_s:.1f}s; writes sent {self.sent}, "
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


def test_a_wiped_redis_is_rebuilt_from_the_log_and_the_edge_table(
    fault_stack: FaultStack, client: ChirpClient
) -> None:
    ledger = Ledger()
    community = build_community(client, ledger)
    before = settled_view(client, community)
    redis = fault_stack.redis.client()
    celebrity_id = community.celebrity.user_id
    assert redis.sismember(CELEBRITIES_KEY, celebrity_id)

    redis.flushall()
    wiped_at = time.monotonic()

    # Claims went with the wipe; the users read model is empty until rebuilt: a registration
    # under a taken handle must still not succeed.
    taken = client.post("/v1/users", json={"handle": community.author.handle, "password": PASSWORD})
    assert taken.status_code in (409, 503), taken.text
    wait_for(lambda: ready(client) == 503, timeout_s=NOTICE_S, what="/readyz to answer 503")
    wait_until_healed(client, community, before)
    healed_s = time.monotonic() - wiped_at

    assert redis.sismember(CELEBRITIES_KEY, celebrity_id)
    assert redis.hlen(CELEBRITY_MARKS_KEY) > 0
    again = client.post("/v1/users", json={"handle": community.author.handle, "password": PASSWORD})
    assert again.status_code == 409, again.text
    celebrity_tweet_reaches_fans(client, ledger, community, "famous after the wipe")
    assert ledger.found() == len(ledger.acknowledged)
    ledger.report("Redis FLUSHALL", healed_s)
    redis.close()


def test_a_redis_restarted_from_an_older_append_only_file_catches_up(
    fault_stack: FaultStack, client: ChirpClient, tmp_path: Path
) -> None:
    ledger = Ledger()
    community = build_community(client, ledger)
    settled_view(client, community)
    older = tmp_path / "appendonlydir"
    shutil.copytree(fault_stack.aof_dir, older)

    # Written after the copy: lost by Redis, kept by the log and the worker's edge table.
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

    fault_stack.redis.kill()
    shutil.rmtree(fault_stack.aof_dir)
    shutil.copytree(older, fault_stack.aof_dir)
    fault_stack.redis.start()
    fault_stack.redis.wait_ready()
    restarted_at = time.monotonic()

    wait_for(lambda: ready(client) == 503, timeout_s=NOTICE_S, what="/readyz to answer 503")
    wait_until_healed(client, community, before)
    healed_s = time.monotonic() - restarted_at

    rising_fans = Community(rising, community.author, fans_of_rising)
    celebrity_tweet_reaches_fans(client, ledger, rising_fans, "rising after the restart")
    assert ledger.found() == len(ledger.acknowledged)
    ledger.report("Redis SIGKILL, older append-only file", healed_s)


def test_writes_answer_503_while_kafka_is_unreachable_and_reads_go_on(
    fault_stack: FaultStack, client: ChirpClient
) -> None:
    ledger = Ledger()
    author, reader = register(client, ledger), register(client, ledger)
    follow(client, ledger, reader, author)
    first = tweet(client, ledger, author, "before the broker stopped")
    wait_for(
        lambda: first in home_ids(client, reader),
        timeout_s=HEAL_S,
        what="the tweet in the reader's home timeline",
    )
    broker = fault_stack.kafka.pid()
    assert broker is not None

    os.kill(broker, signal.SIGSTOP)
    try:
        texts = [f"while the broker is stopped #{n}" for n in range(3)]

        def post(text: str) -> httpx.Response:
            return client.http.post("/v1/tweets", json={"text": text}, headers=author.auth)

        with ThreadPoolExecutor(len(texts) + 1) as pool:
            refused = list(pool.map(post, texts))
            liked = pool.submit(client.http.put, f"/v1/tweets/{first}/like", headers=reader.auth)
            refused.append(liked.result())
        for response in refused:
            ledger.sent += 1
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
        assert home_ids(client, reader) == [first]
        assert [t["id"] for t in served(client, f"/v1/users/{author.handle}/tweets")["data"]] == [
            first
        ]
    finally:
        os.kill(broker, signal.SIGCONT)
    resumed_at = time.monotonic()

    posted = taken(lambda: client.post("/v1/tweets", json={"text": "after"}, headers=author.auth))
    assert posted.status_code == 201, posted.text
    after = posted.json()["id"]
    wait_for(
        lambda: after in home_ids(client, reader),
        timeout_s=HEAL_S,
        what="the write after the broker came back in the reader's home timeline",
    )
    healed_s = time.monotonic() - resumed_at
    ledger.send(posted, lambda: after in home_ids(client, reader))
    # A 503 said the write may or may not be recorded: the producer may still deliver it.
    late = [t["text"] for t in served(client, f"/v1/users/{author.handle}/tweets")["data"]]
    assert ledger.found() == len(ledger.acknowledged)
    ledger.report("Kafka unreachable (SIGSTOP)", healed_s)
    print(
        "[Kafka unreachable (SIGSTOP)] refused tweets found afterwards all the same: "
        f"{sum(1 for text in texts if text in late)} of {len(texts)}"
    )
