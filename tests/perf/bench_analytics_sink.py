"""Benchmark: the analytics sink's rows/s against raw kafka-python consumption of the same records.

Starts a private Kafka broker (free ports, temporary directory), produces N events (a mix of
all nine types, as the API writes them), then reads the same records three ways, each from the
beginning of the log with a fresh consumer:

- `kafka-python raw`: a bare consumer, no decoding (the ceiling for any consumer here);
- `decode + rows`: the same plus Avro decoding and building the sink's row dicts;
- `sink --once`: the real `AnalyticsSink` into a fresh Iceberg catalog and warehouse, counted
  from the moment its group is joined (reported with and without the join too).

Run from the repository root:

    python -m tests.perf.bench_analytics_sink [--events 20000] [--batch 5000]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from infra.analytics.catalog import analytic_tables
from infra.analytics.sink import AnalyticsSink, SinkStats, record_meta
from infra.local_services import KafkaBroker, ensure_running, free_ports
from infra.settings import AnalyticsSettings, Settings
from infra.topics import end_offsets, ensure_topics, event_topics
from schemas import EventCodec, EventDecodeError
from tests.integration.test_analytics import events_of_every_type, produce


def read_all(settings: Settings, decode: bool) -> tuple[int, float]:
    """Records read from the start of every event topic to its end, and the seconds it took."""
    ends = end_offsets(settings, event_topics(settings))
    codec = EventCodec()
    specs = analytic_tables()
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        max_poll_records=5000,
    )
    partitions = [TopicPartition(t, p) for (t, p), end in ends.items() if end > 0]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    count = 0
    started = time.perf_counter()
    try:
        while any(consumer.position(tp) < ends[(tp.topic, tp.partition)] for tp in partitions):
            for records in consumer.poll(timeout_ms=500).values():
                count += len(records)
                if decode:
                    for record in records:
                        try:
                            event = codec.decode(record.value)
                        except EventDecodeError:
                            continue
                        specs[type(event)].row(event, record_meta(record))
        return count, time.perf_counter() - started
    finally:
        consumer.close()


def run_sink(settings: Settings, work_dir: Path, batch: int) -> tuple[SinkStats, float]:
    """One `--once` run into a fresh catalog; the stats and the seconds after joining."""
    name = uuid.uuid4().hex[:8]
    analytics = AnalyticsSettings(
        catalog_uri=f"sqlite:///{work_dir / f'catalog-{name}.db'}",
        warehouse=(work_dir / f"warehouse-{name}").as_uri(),
        group_id=f"bench-{name}",
        batch_max_events=batch,
    )
    joined: list[float] = []

    def on_status(state: str, *_: Any) -> None:
        if state == "joined" and not joined:
            joined.append(time.monotonic())

    sink_settings = settings.model_copy(update={"analytics": analytics})
    stats = AnalyticsSink(sink_settings, on_status=on_status).run(threading.Event(), once=True)
    return stats, time.monotonic() - joined[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5000, help="sink batch_max_events")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="chirp-bench-") as tmp:
        work_dir = Path(tmp)
        kafka_port, controller_port = free_ports(2)
        settings = Settings(
            _env_file=None,
            var_dir=work_dir / "var",
            kafka_port=kafka_port,
            kafka_controller_port=controller_port,
            topic_partitions=8,
        )
        broker = KafkaBroker(settings)
        ensure_running(broker)
        try:
            ensure_topics(settings)
            per_type = max(1, args.events // 9)
            produce(settings, events_of_every_type(per_type, int(time.time() * 1000)))
            total = sum(end_offsets(settings, event_topics(settings)).values())
            print(f"{total:,} records in {len(event_topics(settings))} topics x 8 partitions")

            read_all(settings, decode=False)  # warm the broker's page cache and the JIT-less path
            raw, raw_s = read_all(settings, decode=False)
            decoded, decoded_s = read_all(settings, decode=True)
            stats, busy_s = run_sink(settings, work_dir, args.batch)
            print(f"{'kafka-python raw':<22}{raw:>8,} records {raw / raw_s:>10,.0f}/s")
            print(f"{'decode + rows':<22}{decoded:>8,} records {decoded / decoded_s:>10,.0f}/s")
            print(
                f"{'sink --once':<22}{stats.rows:>8,} rows    {stats.rows / busy_s:>10,.0f}/s "
                f"({stats.batches} batches of <= {args.batch}; {stats.rows_per_s:,.0f}/s "
                f"counting the group join)"
            )
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
