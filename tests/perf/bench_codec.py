"""Micro benchmark: encode + decode of one TweetPosted, `EventCodec` vs the `avro` package.

Both sides start from the domain event and end with it again, and must produce the same bytes.
Then the price of sealing the personal fields under the author's key (crypto-shredding), as
every Chirp process writes them, beside the same codec writing them in the clear.
Run from the repository root:

    python -m tests.perf.bench_codec [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import timeit
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import avro.io
import avro.schema

from domain.commands import GeoPoint
from domain.events import TweetPosted
from infra.personal_keys import FileKeys
from schemas import EventCodec, SchemaRegistry

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EVENT = TweetPosted(
    tweet_id=7_212_345_678_901_234_567,
    author_id=7_212_345_678_901_230_001,
    text="Trying the new espresso place on Rue Oberkampf ☕ #coffee @marie",
    created_at_ms=1_732_000_000_123,
    reply_to=7_212_345_678_901_200_000,
    media_ids=(7_212_345_678_901_234_001,),
    location=GeoPoint(lat=48.8647, lon=2.3770),
    hashtags=("coffee",),
    mentions=("marie",),
)


class AvroPackageCodec:
    """The same wire format with the reference `avro` package, for comparison only."""

    def __init__(self) -> None:
        version = SchemaRegistry.packaged().latest("TweetPosted")
        schema = avro.schema.parse(version.text)
        self._header = b"\xc3\x01" + version.fingerprint
        self._writer = avro.io.DatumWriter(schema)
        self._reader = avro.io.DatumReader(schema)

    def encode(self, event: TweetPosted) -> bytes:
        location = event.location
        datum = {
            "tweet_id": event.tweet_id,
            "author_id": event.author_id,
            "text": event.text,
            "created_at": EPOCH + timedelta(milliseconds=event.created_at_ms),
            "reply_to": event.reply_to,
            "quote_of": event.quote_of,
            "media_ids": list(event.media_ids),
            "location": None if location is None else {"lat": location.lat, "lon": location.lon},
            "hashtags": list(event.hashtags),
            "mentions": list(event.mentions),
            "reply_to_author_id": event.reply_to_author_id,
            "quote_of_author_id": event.quote_of_author_id,
            "mentioned_user_ids": list(event.mentioned_user_ids),
            "sealed": None,
        }
        out = io.BytesIO()
        out.write(self._header)
        self._writer.write(datum, avro.io.BinaryEncoder(out))
        return out.getvalue()

    def decode(self, data: bytes) -> TweetPosted:
        if data[:10] != self._header:
            raise ValueError("not a TweetPosted")
        record: dict[str, Any] = self._reader.read(avro.io.BinaryDecoder(io.BytesIO(data[10:])))
        location = record["location"]
        return TweetPosted(
            tweet_id=record["tweet_id"],
            author_id=record["author_id"],
            text=record["text"],
            created_at_ms=(record["created_at"] - EPOCH) // timedelta(milliseconds=1),
            reply_to=record["reply_to"],
            quote_of=record["quote_of"],
            media_ids=tuple(record["media_ids"]),
            location=None if location is None else GeoPoint(location["lat"], location["lon"]),
            hashtags=tuple(record["hashtags"]),
            mentions=tuple(record["mentions"]),
            reply_to_author_id=record["reply_to_author_id"],
            quote_of_author_id=record["quote_of_author_id"],
            mentioned_user_ids=tuple(record["mentioned_user_ids"]),
        )


def round_trips_per_second(round_trip: Callable[[], object], repeat: int) -> float:
    number, _ = timeit.Timer(round_trip).autorange()
    best = min(timeit.repeat(round_trip, number=number, repeat=repeat))
    return number / best


def main() -> None:
    parser = argparse.ArgumentParser(description="EventCodec vs the avro package")
    parser.add_argument("--repeat", type=int, default=5, help="timing runs; the best is kept")
    args = parser.parse_args()

    fast, reference = EventCodec(), AvroPackageCodec()
    encoded = fast.encode(EVENT)
    if encoded != reference.encode(EVENT) or fast.decode(encoded) != reference.decode(encoded):
        raise SystemExit("the two codecs disagree; fix that before timing them")

    fast_rate = round_trips_per_second(lambda: fast.decode(fast.encode(EVENT)), args.repeat)
    reference_rate = round_trips_per_second(
        lambda: reference.decode(reference.encode(EVENT)), args.repeat
    )
    print(f"TweetPosted, {len(encoded)} bytes; encode + decode per second (best of {args.repeat}):")
    print(f"  fastavro EventCodec: {fast_rate:>10,.0f}  ({1e6 / fast_rate:.1f} us)")
    print(f"  avro package:        {reference_rate:>10,.0f}  ({1e6 / reference_rate:.1f} us)")
    print(f"  ratio:               {fast_rate / reference_rate:>10.1f}x")

    with tempfile.TemporaryDirectory() as keys_dir:
        sealing = EventCodec(keys=FileKeys(Path(keys_dir)))
        sealed_rate = round_trips_per_second(
            lambda: sealing.decode(sealing.encode(EVENT)), args.repeat
        )
    print("Personal fields sealed under the author's key (AES-256-GCM), beside in the clear:")
    print(f"  sealed:              {sealed_rate:>10,.0f}  ({1e6 / sealed_rate:.1f} us)")
    print(f"  ratio to clear:      {sealed_rate / fast_rate:>10.2f}")


if __name__ == "__main__":
    main()
