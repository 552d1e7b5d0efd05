"""Trending hashtags by event time, checked against counts computed here from what we sent."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from kafka import KafkaProducer

from api.positions import encode_token
from domain.events import TweetDeleted, TweetPosted
from domain.ids import EPOCH_MS
from infra.app_processes import ApiProcess, WorkerProcess
from infra.settings import Settings
from schemas import EventCodec, spec_of
from schemas.envelope import Envelope
from schemas.log import Position
from tests.support.replay import run_replay

MINUTE = 60_000


@dataclass
class Sent:
    tweet_id: int
    created_at_ms: int
    hashtags: tuple[str, ...]


class Log:
    """Produces tweets with explicit times straight to the log, as a bulk loader would."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
        self.codec = EventCodec()
        self.positions: dict[tuple[str, int], Position] = {}
        self.next_id = random.randrange(2**40, 2**50)

    def send(self, event: TweetPosted | TweetDeleted) -> None:
        spec = spec_of(event)
        envelope = Envelope.new(spec.schema_name, event.created_at_ms, None)
        future = self.producer.send(
            self.settings.topic(spec.family),
            key=spec.record_key(event),
            value=self.codec.encode(event),
            headers=envelope.headers(),
        )
        metadata = future.get(timeout=30)
        position = Position(metadata.topic, metadata.partition, metadata.offset)
        self.positions[(position.topic, position.partition)] = position

    def post(self, at_ms: int, *tags: str) -> Sent:
        self.next_id += 1
        text = " ".join(f"#{tag}" for tag in tags)
        self.send(TweetPosted(self.next_id, self.next_id % 97 + 1, text, at_ms, hashtags=tags))
        return Sent(self.next_id, at_ms, tags)

    def delete(self, sent: Sent) -> None:
        author = sent.tweet_id % 97 + 1
        self.send(
            TweetDeleted(
                sent.tweet_id,
                author,
                sent.created_at_ms + 1,
                sent.created_at_ms,
                hashtags=sent.hashtags,
            )
        )

    def token(self) -> str:
        return encode_token(self.positions.values())


@pytest.fixture
def log(test_settings: Settings, worker: WorkerProcess) -> Iterator[Log]:
    sender = Log(test_settings)
    yield sender
    sender.producer.close()


def expected_trends(sent: list[Sent], settings: Settings) -> list[dict[str, Any]]:
    """The ranking, computed here from the tweets themselves (not from the code under test)."""
    size, step = settings.trend_window_s * 1000, settings.trend_step_s * 1000
    as_of = max(s.created_at_ms for s in sent)
    start = as_of - as_of % step + step - size
    current = Counter(
        t for s in sent if start <= s.created_at_ms < start + size for t in s.hashtags
    )
    windows = settings.trend_baseline_s // settings.trend_window_s
    past = Counter(
        t for s in sent if start - windows * size <= s.created_at_ms < start for t in s.hashtags
    )
    rows = []
    for tag, count in current.items():
        baseline = past[tag] / windows
        rows.append(
            {
                "hashtag": tag,
                "count": count,
                "score": round((count - baseline) / math.sqrt(baseline + 1), 4),
            }
        )
    return sorted(rows, key=lambda r: (-r["score"], -r["count"], r["hashtag"]))


def trends(api: ApiProcess, token: str, limit: int = 50) -> dict[str, Any]:
    response = httpx.get(
        f"{api.url}/v1/trends", params={"limit": limit}, headers={"Chirp-After": token}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert "Chirp-Stale" not in response.headers
    body: dict[str, Any] = response.json()
    return body


def test_trends_rank_a_spike_first_follow_deletes_and_survive_a_replay(
    log: Log, api_server: ApiProcess, test_settings: Settings
) -> None:
    # Far in the event-time future, so no other test's tweets fall in these windows.
    now = EPOCH_MS + 400 * 365 * 24 * 3600 * 1000 + random.randrange(10**6) * 3600 * 1000
    rng = random.Random(5)
    sent: list[Sent] = []
    for minute in range(-60, 0):  # the hour before: a steady tag and a little noise
        at = now + minute * MINUTE
        sent += [log.post(at + rng.randrange(MINUTE), "steady") for _ in range(4)]
        if minute % 7 == 0:
            sent.append(log.post(at + rng.randrange(MINUTE), "noise", "steady"))
    for minute in range(0, 5):  # the current window: the steady tag holds, a new one spikes
        at = now + minute * MINUTE
        sent += [log.post(at + rng.randrange(MINUTE), "steady") for _ in range(4)]
        sent += [log.post(at + rng.randrange(MINUTE), "spike") for _ in range(3)]
    sent.append(log.post(now + 4 * MINUTE + 59_000, "spike", "late"))

    body = trends(api_server, log.token())
    assert body["window_seconds"] == test_settings.trend_window_s
    assert body["data"] == expected_trends(sent, test_settings)
    assert body["data"][0]["hashtag"] == "spike"
    steady = next(row for row in body["data"] if row["hashtag"] == "steady")
    assert steady["count"] > body["data"][0]["count"]  # bigger, yet ranked below the spike

    doomed = [s for s in sent if "spike" in s.hashtags and s.created_at_ms >= now][:5]
    for tweet in doomed:
        log.delete(tweet)
    remaining = [s for s in sent if s not in doomed]
    after_delete = trends(api_server, log.token())
    assert after_delete["data"] == expected_trends(remaining, test_settings)
    spike_count = next(r["count"] for r in after_delete["data"] if r["hashtag"] == "spike")
    assert spike_count == next(r["count"] for r in body["data"] if r["hashtag"] == "spike") - 5

    run_replay(test_settings, "trends", drop_grace_s=0.2)
    assert trends(api_server, log.token()) == after_delete
    assert len(trends(api_server, log.token(), limit=2)["data"]) == 2


@pytest.mark.parametrize("limit", [0, 51, "ten"])
def test_limit_outside_1_to_50_is_refused(api_server: ApiProcess, limit: object) -> None:
    response = httpx.get(f"{api_server.url}/v1/trends", params={"limit": limit}, timeout=30)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
