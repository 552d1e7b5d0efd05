"""The tweet search index on disk: idempotent application, positions committed with it, and
readers in other objects following commits and the version pointer."""

from __future__ import annotations

from pathlib import Path

from domain.events import TweetDeleted, TweetPosted
from domain.search import index_changes, parse_search_query
from projections.search_index import IndexVersions, TweetIndexReader, TweetIndexWriter
from schemas.log import Position

TOPIC = "chirp.tweets"


def post(tweet_id: int, text: str, author: int = 1, tags: tuple[str, ...] = ()) -> TweetPosted:
    return TweetPosted(tweet_id, author, text, tweet_id, hashtags=tags)


def build(root: Path, version: int, events: list[TweetPosted | TweetDeleted]) -> None:
    writer = TweetIndexWriter(IndexVersions(root).path(version))
    for offset, event in enumerate(events):
        writer.apply(Position(TOPIC, 0, offset), index_changes(event))
    writer.close()


def found(reader: TweetIndexReader, text: str, **options: object) -> list[int]:
    settings = {"sort": "recent", "limit": 50, "after": None, **options}
    hits = reader.search(parse_search_query(text), [], **settings)  # type: ignore[arg-type]
    return [hit.tweet_id for hit in hits]


def test_words_are_stemmed_phrases_ordered_and_tags_exact(tmp_path: Path) -> None:
    build(
        tmp_path,
        1,
        [
            post(10, "Running dogs are happy", tags=("pets",)),
            post(11, "the big dog ran home"),
            post(12, "dogs running in the park #pets", tags=("pets",)),
        ],
    )
    IndexVersions(tmp_path).point_to(1)
    reader = TweetIndexReader(tmp_path)
    assert found(reader, "runs") == [12, 10]
    assert found(reader, '"dogs running"') == [12]
    assert found(reader, '"running dogs"') == [10]
    assert found(reader, "#pets dog") == [12, 10]
    assert found(reader, "dog", after=12) == [11, 10]
    assert found(reader, "cat") == []


def test_reapplying_the_log_changes_nothing_and_deletes_stay_deleted(tmp_path: Path) -> None:
    events: list[TweetPosted | TweetDeleted] = [
        post(20, "kafka streams"),
        post(21, "kafka again"),
        TweetDeleted(20, 1, 30, 20),
    ]
    path = IndexVersions(tmp_path).path(1)
    build(tmp_path, 1, events)
    writer = TweetIndexWriter(path)
    assert writer.positions == {f"{TOPIC}:0": 2}  # committed with the documents
    for offset, event in enumerate(events):  # an indexer that re-read the log from 0
        writer.positions.clear()
        writer.apply(Position(TOPIC, 0, offset), index_changes(event))
    writer.close()
    IndexVersions(tmp_path).point_to(1)
    reader = TweetIndexReader(tmp_path)
    assert found(reader, "kafka") == [21]
    assert reader.positions() == {f"{TOPIC}:0": 2}


def test_relevance_pages_by_rank_and_readers_follow_the_pointer(tmp_path: Path) -> None:
    build(tmp_path, 1, [post(30, "chirp"), post(31, "chirp chirp chirp"), post(32, "other")])
    versions = IndexVersions(tmp_path)
    versions.point_to(1)
    reader = TweetIndexReader(tmp_path, refresh_s=0)
    first = reader.search(parse_search_query("chirp"), [], sort="relevance", limit=1, after=None)
    assert [(hit.rank, hit.tweet_id) for hit in first] == [(1, 31)]
    rest = reader.search(parse_search_query("chirp"), [], sort="relevance", limit=5, after=1)
    assert [(hit.rank, hit.tweet_id) for hit in rest] == [(2, 30)]

    build(tmp_path, 2, [post(40, "chirp rebuilt")])
    versions.point_to(2)
    assert found(reader, "chirp") == [40]
    assert versions.drop_older_than(2) == [1]
    assert versions.versions() == [2]
