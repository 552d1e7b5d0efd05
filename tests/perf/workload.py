"""A reproducible social workload, loaded through the real event log.

Users follow others with a power-law (Zipf-like) preference, so a few accounts collect
thousands of followers while most have a handful; each user follows about `mean_followees`
accounts. Events are the same Avro records the API produces, bulk-produced with aiokafka
(idempotent, acks=all, default partitioner), keyed as the API keys them.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from domain.events import Event, TweetPosted, UserFollowed, UserRegistered
from domain.ids import IdGenerator
from infra.settings import Settings
from infra.wiring import event_codec
from schemas import spec_of
from schemas.envelope import Envelope
from schemas.log import Position

# A real argon2 hash of "correct horse battery", so loaded users can log in.
PASSWORD = "correct horse battery"


@dataclass(frozen=True, slots=True)
class WorkloadShape:
    users: int = 10_000
    mean_followees: int = 100
    zipf_exponent: float = 1.1
    tweets_per_user: int = 2
    seed: int = 2026


@dataclass
class SocialGraph:
    user_ids: list[int]
    handles: list[str]
    followees: list[set[int]] = field(default_factory=list)  # by user index

    def followers_count(self) -> list[int]:
        counts = [0] * len(self.user_ids)
        for followed in self.followees:
            for index in followed:
                counts[index] += 1
        return counts

    @property
    def edges(self) -> int:
        return sum(len(f) for f in self.followees)


def build_graph(shape: WorkloadShape) -> SocialGraph:
    """Each user picks followees by a Zipf-weighted draw over a shuffled popularity order."""
    rng = random.Random(shape.seed)
    ids = IdGenerator(node_id=1000)
    user_ids = [ids.next_id() for _ in range(shape.users)]
    handles = [f"load{index:07d}" for index in range(shape.users)]
    popularity = list(range(shape.users))
    rng.shuffle(popularity)
    weights = [1.0 / (rank + 1) ** shape.zipf_exponent for rank in range(shape.users)]
    cumulative = list(itertools.accumulate(weights))
    graph = SocialGraph(user_ids, handles, [set() for _ in range(shape.users)])
    for user in range(shape.users):
        wanted = max(1, min(shape.users - 1, int(rng.expovariate(1 / shape.mean_followees))))
        picks = rng.choices(popularity, cum_weights=cumulative, k=wanted * 2)
        chosen = graph.followees[user]
        for pick in picks:
            if pick != user:
                chosen.add(pick)
            if len(chosen) >= wanted:
                break
    return graph


def graph_events(graph: SocialGraph, shape: WorkloadShape, password_hash: str) -> Iterator[Event]:
    rng = random.Random(shape.seed + 1)
    ids = IdGenerator(node_id=1001)
    now = time.time_ns() // 1_000_000
    for user_id, handle in zip(graph.user_ids, graph.handles, strict=True):
        yield UserRegistered(user_id, handle, handle, password_hash, now)
    for follower, followed in enumerate(graph.followees):
        for followee in sorted(followed):
            yield UserFollowed(graph.user_ids[follower], graph.user_ids[followee], now)
    for _ in range(shape.tweets_per_user):
        for user_id in graph.user_ids:
            tag = f"topic{rng.randrange(50)}"
            yield TweetPosted(ids.next_id(), user_id, f"load tweet #{tag}", now, hashtags=(tag,))


@dataclass
class Produced:
    events: int = 0
    last_offsets: dict[str, int] = field(default_factory=dict)  # by `topic:partition` field

    def written(self, records: list[RecordMetadata]) -> None:
        for record in records:
            at = Position(record.topic, record.partition, record.offset).field
            self.last_offsets[at] = max(self.last_offsets.get(at, -1), record.offset)
        self.events += len(records)


async def produce(
    settings: Settings, events: Iterator[Event], *, in_flight: int = 20_000
) -> Produced:
    """Bulk-produce events (batched sends, then one wait per window), sealed as the API seals
    them: each user's key is made with its first event, as registration makes it."""
    codec = event_codec(settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    produced = Produced()
    try:
        pending = []
        for event in events:
            spec = spec_of(event)
            envelope = Envelope.new(spec.schema_name, time.time_ns() // 1_000_000, "workload")
            pending.append(
                await producer.send(
                    settings.topic(spec.family),
                    value=codec.encode(event),
                    key=spec.record_key(event),
                    headers=envelope.headers(),
                )
            )
            if len(pending) >= in_flight:
                produced.written(await asyncio.gather(*pending))
                pending.clear()
        produced.written(await asyncio.gather(*pending))
    finally:
        await producer.stop()
    return produced
