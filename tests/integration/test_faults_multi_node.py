"""Process faults on the multi-node topology: a broker, a worker and an API process SIGKILLed
under load. Each test restarts what it killed, so the next one finds the topology whole.

Each test prints (to the terminal, even when pytest captures output) how long the fault took
to heal and how many writes were sent, acknowledged and found afterwards; the README quotes
the figures of a run.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from api.positions import decode_token
from domain.events import TweetPosted
from infra.app_processes import WorkerProcess
from infra.local_services import KafkaClusterNode, port_accepts
from infra.log_reader import LogReader
from infra.multi_node import MultiNodeTopology
from infra.topics import admin_client, chirp_topics
from infra.wiring import event_codec
from schemas.log import Position
from tests.support.client import Account, ChirpClient, covering_token
from tests.support.faults import report
from tests.support.waiting import wait_for

REQUEST_TIMEOUT_S = 60.0  # a request still unanswered by then counts as a hang
PROBLEM_JSON = "application/problem+json"
WRITERS = 4
ACKED_BEFORE_FAULT = 40
ACKED_AFTER_FAULT = 60
HEAL_WAIT_S = 120.0
CATCH_UP_WAIT_S = 120.0


# --- writes and what became of them -----------------------------------------------------------


@dataclass
class Outcome:
    status: int | None  # None: no answer within REQUEST_TIMEOUT_S, or the connection broke
    content_type: str
    sent_at: float
    answered_at: float
    tweet_id: str | None = None
    position: Position | None = None


@dataclass
class WriteLog:
    """Every write of a stream and its answer, shared by the writer threads."""

    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def snapshot(self) -> list[Outcome]:
        with self.lock:
            return list(self.outcomes)

    def acked(self, sent_after: float = 0.0) -> list[Outcome]:
        return [o for o in self.snapshot() if o.status == 201 and o.sent_at >= sent_after]


def post_tweets(base_url: str, author: Account, stop: threading.Event, log: WriteLog) -> None:
    """Post tweets one after another until `stop`, recording every answer."""
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as http:
        sequence = 0
        while not stop.is_set():
            sequence += 1
            sent_at = time.monotonic()
            try:
                response = http.post(
                    "/v1/tweets", json={"text": f"steady write {sequence}"}, headers=author.auth
                )
            except httpx.HTTPError:
                log.add(Outcome(None, "", sent_at, time.monotonic()))
                continue
            outcome = Outcome(
                response.status_code,
                response.headers.get("content-type", ""),
                sent_at,
                time.monotonic(),
            )
            if response.status_code == 201:
                outcome.tweet_id = response.json()["id"]
                [outcome.position] = decode_token(response.headers["Chirp-Position"])
            log.add(outcome)


def records_at(bootstrap_servers: str, topic: str) -> dict[tuple[int, int], bytes]:
    """Every record of `topic` now in the log, by (partition, offset)."""

    def open_reader() -> LogReader | None:
        try:
            return LogReader(bootstrap_servers, [topic])
        except KafkaException:  # leaders still moving back to the restarted broker
            return None

    reader = wait_for(open_reader, timeout_s=CATCH_UP_WAIT_S, what=f"{topic}'s end offsets")
    try:
        last = {int(name.rsplit(":", 1)[1]): end - 1 for name, end in reader.log_end.items() if end}
        found: dict[tuple[int, int], bytes] = {}

        def read_to_the_end() -> bool:
            for record in reader.read(10_000, timeout_s=1.0):
                found[(record.partition, record.offset)] = record.value
            return all((partition, offset) in found for partition, offset in last.items())

        wait_for(
            read_to_the_end, timeout_s=CATCH_UP_WAIT_S, what=f"{topic} read to its end", every_s=0
        )
        return found
    finally:
        reader.close()


def tweets_found_in_log(topology: MultiNodeTopology, acked: list[Outcome]) -> int:
    """How many acknowledged tweets sit in the log at the position their 201 named."""
    topic = topology.settings.topic("tweets")
    records = records_at(topology.settings.bootstrap_servers, topic)
    codec = event_codec(topology.settings)
    found = 0
    for outcome in acked:
        assert outcome.position is not None and outcome.tweet_id is not None
        value = records.get((outcome.position.partition, outcome.position.offset))
        event = codec.decode(value) if value is not None else None
        found += isinstance(event, TweetPosted) and str(event.tweet_id) == outcome.tweet_id
    return found


def tweets_found_in_projections(base_url: str, acked: list[Outcome]) -> int | None:
    """How many acknowledged tweets the API serves once caught up; None while still stale."""
    token = covering_token([o.position for o in acked if o.position is not None])
    found = 0
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as http:
        for outcome in acked:
            response = http.get(f"/v1/tweets/{outcome.tweet_id}", headers={"Chirp-After": token})
            if "Chirp-Stale" in response.headers:
                return None
            found += response.status_code == 200 and response.json()["id"] == outcome.tweet_id
    return found


# --- Kafka ----------------------------------------------------------------------------------


def busiest_leader(topology: MultiNodeTopology, topic: str) -> KafkaClusterNode:
    """The node leading the most partitions of `topic`: killing it moves the most leaders."""
    with admin_client(topology.settings) as admin:
        [described] = admin.describe_topics([topic])
    leaders = [partition["leader_id"] for partition in described["partitions"]]
    return topology.kafka.node(max(set(leaders), key=leaders.count))


def fully_replicated(topology: MultiNodeTopology) -> bool:
    """Whether every partition of Chirp's topics has all its replicas in sync again."""
    with admin_client(topology.settings) as admin:
        described = admin.describe_topics(chirp_topics(topology.settings))
    return all(
        len(partition["isr_nodes"]) == len(partition["replica_nodes"])
        for topic in described
        for partition in topic["partitions"]
    )


def test_a_broker_killed_mid_stream_loses_no_acknowledged_write(
    topology: MultiNodeTopology, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL the broker leading most `chirp.tweets` partitions while four clients post
    tweets through both API processes: every 201 is in the log at its position and in the
    projections; a write that fails meanwhile is a 503 problem+json, never a hang or a 500;
    writes go on through the two brokers left."""
    apis = [api.url for api in topology.apis]
    setup = ChirpClient(apis[0])
    authors = [setup.register() for _ in range(WRITERS)]
    setup.close()
    stop, log = threading.Event(), WriteLog()
    writers = [
        threading.Thread(target=post_tweets, args=(apis[i % len(apis)], author, stop, log))
        for i, author in enumerate(authors)
    ]
    for writer in writers:
        writer.start()
    try:
        wait_for(
            lambda: len(log.acked()) >= ACKED_BEFORE_FAULT,
            timeout_s=HEAL_WAIT_S,
            what="writes before the fault",
        )
        victim = busiest_leader(topology, topology.settings.topic("tweets"))
        killed_at = time.monotonic()
        victim.kill()
        wait_for(
            lambda: len(log.acked(sent_after=killed_at)) >= ACKED_AFTER_FAULT,
            timeout_s=HEAL_WAIT_S,
            what="writes acknowledged after the broker died",
        )
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    outcomes = log.snapshot()
    acked = log.acked()
    first_after = min(o.answered_at for o in log.acked(sent_after=killed_at))
    failed = [o for o in outcomes if o.status != 201]
    restarted_at = time.monotonic()
    victim.start()
    victim.wait_ready()
    rejoined_s = time.monotonic() - restarted_at
    wait_for(
        lambda: fully_replicated(topology), timeout_s=HEAL_WAIT_S, what="replicas back in sync"
    )
    in_sync_s = time.monotonic() - restarted_at

    in_log = tweets_found_in_log(topology, acked)
    in_projections = wait_for(
        lambda: tweets_found_in_projections(apis[1], acked),
        timeout_s=CATCH_UP_WAIT_S,
        what="the projections to apply every acknowledged write",
    )
    report(
        capsys,
        f"broker {victim.name} SIGKILLed: writes sent {len(outcomes)}, acknowledged "
        f"{len(acked)}, refused {len(failed)} "
        f"({sorted({(o.status, o.content_type) for o in failed}, key=str)}); "
        f"found in the log {in_log}, in the projections {in_projections}; "
        f"first write acknowledged {first_after - killed_at:.1f}s after the kill; "
        f"restarted broker registered in {rejoined_s:.1f}s, replicas in sync after "
        f"{in_sync_s:.1f}s",
    )
    assert [o for o in failed if o.status != 503 or o.content_type != PROBLEM_JSON] == []
    assert in_log == len(acked)
    assert in_projections == len(acked)
    assert len(acked) >= ACKED_BEFORE_FAULT + ACKED_AFTER_FAULT


# --- workers ----------------------------------------------------------------------------------

TWEETS = 8
STORMERS = 4
USERS_PER_STORMER = 4
OPS_PER_STORMER = 200  # 800 likes and unlikes, many of them repeats

FinalLikes = dict[tuple[str, str], bool]


def storm(
    base_url: str, users: list[Account], tweets: list[str], seed: int, midway: threading.Event
) -> tuple[FinalLikes, ChirpClient]:
    """Random likes and unlikes; each user's are sequential, so the last one per (user, tweet)
    is what the log ends with."""
    rng = random.Random(seed)
    client = ChirpClient(base_url)
    final: FinalLikes = {}
    for done in range(OPS_PER_STORMER):
        if done == OPS_PER_STORMER // 3:
            midway.set()
        user, tweet, liked = rng.choice(users), rng.choice(tweets), rng.random() < 0.6
        send = client.put if liked else client.delete
        response = send(f"/v1/tweets/{tweet}/like", user)
        assert response.status_code == 204, response.text
        final[(user.user_id, tweet)] = liked
    return final, client


def group_members(topology: MultiNodeTopology) -> dict[str, set[tuple[str, int]]]:
    """The workers' consumer group: each member's assigned (topic, partition)s.

    librdkafka's admin client decodes the assignments Faust's assignor writes.
    """
    group = topology.settings.worker_id
    admin = AdminClient({"bootstrap.servers": topology.settings.bootstrap_servers})
    described = admin.describe_consumer_groups([group])[group].result(timeout=REQUEST_TIMEOUT_S)
    return {
        member.member_id: {(tp.topic, tp.partition) for tp in member.assignment.topic_partitions}
        for member in described.members
    }


def one_member_holds(topology: MultiNodeTopology, partitions: set[tuple[str, int]]) -> bool:
    members = group_members(topology)
    return len(members) == 1 and partitions <= next(iter(members.values()))


def test_a_worker_killed_mid_storm_hands_its_partitions_over_and_counts_stay_exact(
    topology: MultiNodeTopology, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL one of the two workers during a storm of likes and unlikes sent through both
    API processes: the group hands all its partitions to the other worker, and once the
    projections caught up every like count equals the model's."""
    apis = [api.url for api in topology.apis]
    setup = ChirpClient(apis[0])
    author = setup.register()
    tweets = [setup.tweet(author, f"storm target {i}")["id"] for i in range(TWEETS)]
    groups = [[setup.register() for _ in range(USERS_PER_STORMER)] for _ in range(STORMERS)]
    setup.close()
    likes = {
        (topology.settings.topic("likes"), p) for p in range(topology.settings.topic_partitions)
    }
    wait_for(
        lambda: len(group_members(topology)) == len(topology.workers),
        timeout_s=HEAL_WAIT_S,
        what="both workers in the group",
    )
    victim: WorkerProcess = topology.workers[0]
    midway = threading.Event()
    handed_over: dict[str, float] = {}

    def crash_midway() -> None:
        assert midway.wait(timeout=HEAL_WAIT_S)
        killed_at = time.monotonic()
        victim.kill()  # no shutdown: offsets not committed, the group not told
        wait_for(
            lambda: one_member_holds(topology, likes),
            timeout_s=topology.settings.worker_session_timeout_s + HEAL_WAIT_S,
            what="the surviving worker to hold every partition",
        )
        handed_over["s"] = time.monotonic() - killed_at

    killer = threading.Thread(target=crash_midway)
    killer.start()
    with ThreadPoolExecutor(max_workers=STORMERS) as pool:
        futures = [
            pool.submit(storm, apis[seed % len(apis)], group, tweets, seed, midway)
            for seed, group in enumerate(groups)
        ]
        results = [future.result() for future in futures]
    killer.join()
    assert "s" in handed_over, "the partitions never moved to the surviving worker"

    expected = dict.fromkeys(tweets, 0)
    positions: list[Position] = []
    for final, client in results:
        for (_, tweet), liked in final.items():
            expected[tweet] += liked
        positions.extend(client.positions())
        client.close()
    token = covering_token(positions)

    def counts_once_caught_up() -> dict[str, int] | None:
        found = {}
        for tweet in tweets:
            response = httpx.get(
                f"{apis[1]}/v1/tweets/{tweet}",
                headers={"Chirp-After": token},
                timeout=REQUEST_TIMEOUT_S,
            )
            if "Chirp-Stale" in response.headers:
                return None
            found[tweet] = response.json()["like_count"]
        return found

    counts = wait_for(counts_once_caught_up, timeout_s=CATCH_UP_WAIT_S, what="the projections")
    restarted_at = time.monotonic()
    victim.start()
    victim.wait_ready()
    wait_for(
        lambda: len(group_members(topology)) == len(topology.workers),
        timeout_s=HEAL_WAIT_S,
        what="the restarted worker back in the group",
    )
    report(
        capsys,
        f"worker {victim.name} SIGKILLed mid-storm: {STORMERS * OPS_PER_STORMER} likes and "
        f"unlikes sent and acknowledged, {sum(expected.values())} likes expected on "
        f"{TWEETS} tweets, counts exact: {counts == expected}; partitions handed over "
        f"{handed_over['s']:.1f}s after the kill (session timeout "
        f"{topology.settings.worker_session_timeout_s:.0f}s); restarted worker back in the "
        f"group after {time.monotonic() - restarted_at:.1f}s",
    )
    assert counts == expected
    assert sum(expected.values()) > 0


# --- API processes ----------------------------------------------------------------------------


def read_and_write(base_url: str, stop: threading.Event, log: WriteLog) -> None:
    """A user's steady traffic: post a tweet, read it back with their own token."""
    client = ChirpClient(base_url)
    try:
        account = client.register()
        while not stop.is_set():
            sent_at = time.monotonic()
            try:
                posted = client.post(
                    "/v1/tweets", json={"text": "still here"}, headers=account.auth
                )
                read = client.get(f"/v1/users/{account.handle}/tweets", headers=account.auth)
            except httpx.HTTPError:
                log.add(Outcome(None, "", sent_at, time.monotonic()))
                continue
            ok = posted.status_code == 201 and read.status_code == 200
            shown = ok and read.json()["data"][0]["id"] == posted.json()["id"]
            status = 201 if shown else posted.status_code if not ok else read.status_code
            log.add(
                Outcome(status, posted.headers.get("content-type", ""), sent_at, time.monotonic())
            )
    finally:
        client.close()


def test_an_api_process_killed_leaves_the_other_serving(
    topology: MultiNodeTopology, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL one API process while a client writes and reads through the other: every one
    of that client's requests succeeds, before, during and after; the killed one comes back."""
    victim, survivor = topology.apis[0], topology.apis[1]
    stop, log = threading.Event(), WriteLog()
    traffic = threading.Thread(target=read_and_write, args=(survivor.url, stop, log))
    traffic.start()
    try:
        wait_for(lambda: len(log.snapshot()) >= 10, timeout_s=HEAL_WAIT_S, what="traffic")
        killed_at = time.monotonic()
        victim.kill()
        assert not port_accepts(victim.settings.api_port)
        wait_for(
            lambda: len(log.acked(sent_after=killed_at)) >= ACKED_AFTER_FAULT,
            timeout_s=HEAL_WAIT_S,
            what="requests served by the other process after the kill",
        )
    finally:
        stop.set()
        traffic.join()
    outcomes = log.snapshot()
    restarted_at = time.monotonic()
    victim.start()
    victim.wait_ready()
    back_s = time.monotonic() - restarted_at
    back = ChirpClient(victim.url)
    try:
        account = back.register()
        tweet = back.tweet(account, "served again")["id"]
        assert back.ids(back.user_tweets(account.handle)) == [tweet]
    finally:
        back.close()
    report(
        capsys,
        f"API process {victim.name} SIGKILLed: the other served "
        f"{len(outcomes)} write-then-read rounds, {len(log.acked())} succeeded "
        f"({len(log.acked(sent_after=killed_at))} after the kill); the killed process "
        f"answered again {back_s:.1f}s after its restart",
    )
    assert [o for o in outcomes if o.status != 201] == []
