"""The write path's Kafka client: aiokafka against confluent-kafka's asyncio producer.

    python -m tests.perf.bench_producer [--seconds 10] [--concurrency 64]

Both produce the same records (about 300 bytes, like a TweetPosted) with what the API needs:
acks=all, idempotence, linger 5 ms. `concurrency` coroutines each await one produce at a time,
as concurrent HTTP requests do, for `seconds`; the script reports acknowledged records/s and
the p50/p95 of a produce's latency for each client, and their ratio. Starts its own broker.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from confluent_kafka.aio import AIOProducer

from infra.local_services import KafkaBroker, ensure_running
from infra.settings import REPO_ROOT
from infra.topics import ensure_topics
from tests.perf.stack import bench_settings

TOPIC_FAMILY = "tweets"
Produce = Callable[[bytes, bytes], Awaitable[Any]]


async def drive(produce: Produce, seconds: float, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    payload = b"x" * 300

    async def client(n: int) -> None:
        i = 0
        while time.monotonic() < deadline:
            started = time.monotonic()
            await produce(str(n * 1_000_003 + i).encode(), payload)
            latencies.append(time.monotonic() - started)
            i += 1

    started = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(concurrency)))
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {"per_s": len(latencies) / elapsed, "p50_ms": pct(0.5), "p95_ms": pct(0.95)}


async def with_aiokafka(bootstrap: str, topic: str, seconds: float, n: int) -> dict[str, float]:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:

        async def produce(key: bytes, value: bytes) -> Any:
            return await producer.send_and_wait(topic, value=value, key=key)

        return await drive(produce, seconds, n)
    finally:
        await producer.stop()


async def with_confluent(bootstrap: str, topic: str, seconds: float, n: int) -> dict[str, float]:
    producer = AIOProducer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
        },
        # Its buffer is flushed by a timer that wakes at most every 100 ms, or when full: a
        # batch of one hands each record to librdkafka at once (which then lingers 5 ms).
        batch_size=1,
        buffer_timeout=0.2,
    )
    try:

        async def produce(key: bytes, value: bytes) -> Any:
            delivered = await producer.produce(topic, value=value, key=key)
            return await delivered if asyncio.isfuture(delivered) else delivered

        return await drive(produce, seconds, n)
    finally:
        await producer.flush()
        await producer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    var_dir = REPO_ROOT / "var" / "bench-producer"
    shutil.rmtree(var_dir, ignore_errors=True)
    settings = bench_settings(var_dir)
    broker = KafkaBroker(settings)
    ensure_running(broker, 120)
    try:
        ensure_topics(settings, timeout=60)
        topic = settings.topic(TOPIC_FAMILY)
        bootstrap = settings.bootstrap_servers
        aio = asyncio.run(with_aiokafka(bootstrap, topic, args.seconds, args.concurrency))
        print(f"aiokafka done: {aio}", flush=True)
        ck = asyncio.run(with_confluent(bootstrap, topic, args.seconds, args.concurrency))
    finally:
        broker.stop()
    for name, row in (("aiokafka", aio), ("confluent-kafka", ck)):
        print(
            f"{name:16} {row['per_s']:9,.0f} records/s  "
            f"p50 {row['p50_ms']:6.1f} ms  p95 {row['p95_ms']:6.1f} ms"
        )
    print(f"confluent-kafka / aiokafka: {ck['per_s'] / aio['per_s']:.2f}")


if __name__ == "__main__":
    main()
