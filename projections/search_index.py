"""The tweet search index: an embedded tantivy index on disk, one writer, many readers.

Owns the index's schema, its directory layout and both of its paths: writing (the indexer
process, `TweetIndexWriter`) and reading (every API process, `TweetIndexReader`).

Layout under the root directory (`<var_dir>/search`): one directory per version (`v1`, `v2`,
...) and a pointer file `CURRENT` naming the version that serves. A rebuild fills a new version
and then replaces `CURRENT` atomically (write, fsync, rename); readers follow the pointer.

Positions are committed with the documents: for each partition of the log the index holds a
position document (`kind=position`, `partition=topic:partition`, `offset`) replaced in the same
commit as the tweets it covers, so a restarted indexer resumes exactly where its last commit
ended. Tweets are replaced by id (delete by term, then add): applying an event twice leaves
the same index.

Must never be written by two processes at once: tantivy refuses a second writer (`LockBusy`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy

from domain.search import IndexChange, PutTweet, RemoveTweet, SearchQuery, SearchSort
from schemas.log import Position

POINTER_FILE = "CURRENT"
_VERSION_DIR = re.compile(r"^v([0-9]+)$")
MAX_TOKEN_CHARS = 40  # tantivy's en_stem drops longer tokens
WRITER_HEAP_BYTES = 32_000_000
MAX_POSITIONS = 100_000  # position documents: one per partition
MAX_RANK = 10_000  # relevance pages go this deep, no further

KIND_TWEET = "tweet"
KIND_POSITION = "position"


def tweet_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("kind", tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("tweet_id", stored=True, indexed=True, fast=True)
    builder.add_unsigned_field("author_id", indexed=True, fast=True)
    builder.add_text_field("text", tokenizer_name="en_stem", index_option="position")
    builder.add_text_field("hashtag", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("partition", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field("offset", stored=True)
    return builder.build()


def text_analyzer() -> tantivy.TextAnalyzer:
    """The same analysis as the `en_stem` tokenizer the text field is indexed with, so query
    words become the very terms the index holds."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


class IndexVersions:
    """The versioned directories under the search root and the pointer to the serving one."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def pointer(self) -> Path:
        return self.root / POINTER_FILE

    def path(self, version: int) -> Path:
        return self.root / f"v{version}"

    def current(self) -> int | None:
        try:
            text = self.pointer.read_text().strip()
        except FileNotFoundError:
            return None
        match = _VERSION_DIR.fullmatch(text)
        return int(match.group(1)) if match else None

    def versions(self) -> list[int]:
        if not self.root.exists():
            return []
        found = (_VERSION_DIR.fullmatch(entry.name) for entry in self.root.iterdir())
        return sorted(int(match.group(1)) for match in found if match)

    def next_version(self) -> int:
        return max([*self.versions(), self.current() or 0]) + 1

    def point_to(self, version: int) -> None:
        """Make `version` serve: the pointer is replaced whole, never seen half-written."""
        self.root.mkdir(parents=True, exist_ok=True)
        staged = self.root / f".{POINTER_FILE}.{os.getpid()}"
        with staged.open("w") as handle:
            handle.write(f"v{version}\n")
            handle.flush()
            os.fsync(handle.fileno())
        staged.replace(self.pointer)
        directory = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def drop_older_than(self, version: int) -> list[int]:
        """Delete the directories of versions before `version` (readers that still map their
        files keep them until they reopen)."""
        dropped = [old for old in self.versions() if old < version]
        for old in dropped:
            shutil.rmtree(self.path(old), ignore_errors=True)
        return dropped


def open_index(path: Path) -> tantivy.Index:
    """The index in `path`, created empty if there is none."""
    path.mkdir(parents=True, exist_ok=True)
    return tantivy.Index(tweet_schema(), path=str(path), reuse=True)


def read_positions(index: tantivy.Index) -> dict[str, int]:
    """The positions the index's last commit covers, by `topic:partition`."""
    searcher = index.searcher()
    query = tantivy.Query.term_query(index.schema, "kind", KIND_POSITION)
    hits = searcher.search(query, MAX_POSITIONS, count=False).hits
    positions: dict[str, int] = {}
    for _, address in hits:
        document = searcher.doc(address)
        positions[str(document["partition"][0])] = int(document["offset"][0])
    return positions


class TweetIndexWriter:
    """The one writer of one version: applies changes, commits them with their positions."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.index = open_index(path)
        self.schema = self.index.schema
        self._writer: tantivy.IndexWriter | None = self.index.writer(
            heap_size=WRITER_HEAP_BYTES, num_threads=1
        )
        self.positions = read_positions(self.index)  # committed, plus what is pending
        self._moved: set[str] = set()

    @property
    def writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise RuntimeError(f"the writer of {self.path} is closed")
        return self._writer

    @property
    def pending(self) -> bool:
        return bool(self._moved)

    def applied(self, position: Position) -> bool:
        return self.positions.get(position.field, -1) >= position.offset

    def apply(self, position: Position, changes: Sequence[IndexChange]) -> None:
        """Queue one record's changes (none for events search ignores) and its position."""
        if self.applied(position):
            return
        for change in changes:
            if isinstance(change, PutTweet):
                self._remove(change.document.tweet_id)
                self.writer.add_document(self._document(change))
            elif isinstance(change, RemoveTweet):
                self._remove(change.tweet_id)
        self.positions[position.field] = position.offset
        self._moved.add(position.field)

    def commit(self) -> None:
        """Make the queued changes searchable, together with the positions they reach."""
        if not self._moved:
            return
        for field in sorted(self._moved):
            self.writer.delete_documents_by_term("partition", field)
            document = tantivy.Document(kind=KIND_POSITION, partition=field)
            document.add_unsigned("offset", self.positions[field])
            self.writer.add_document(document)
        self.writer.commit()
        self._moved.clear()

    def close(self) -> None:
        """Release the writer's lock (pending changes are committed first)."""
        if self._writer is None:
            return
        self.commit()
        self._writer.wait_merging_threads()  # consumes the writer: its lock is released
        self._writer = None

    def _remove(self, tweet_id: int) -> None:
        # Not `delete_documents_by_term`: it reads a Python int as an i64 term, which never
        # matches an unsigned field.
        query = tantivy.Query.term_query(self.schema, "tweet_id", tweet_id)
        self.writer.delete_documents_by_query(query)

    @staticmethod
    def _document(change: PutTweet) -> tantivy.Document:
        tweet = change.document
        document = tantivy.Document(kind=KIND_TWEET, text=tweet.text)
        document.add_unsigned("tweet_id", tweet.tweet_id)
        document.add_unsigned("author_id", tweet.author_id)
        for hashtag in tweet.hashtags:
            document.add_text("hashtag", hashtag)
        return document


@dataclass(frozen=True, slots=True)
class Hit:
    rank: int  # 1-based place in the whole result list
    tweet_id: int
    author_id: int  # from the index: a page is hydrated without reading the tweets first


class TweetIndexReader:
    """A reader of whichever version serves, reloaded at most every `refresh_s` (and on
    demand when a client waits for a position). Safe to share between threads."""

    def __init__(self, root: Path, refresh_s: float = 0.1) -> None:
        self.versions = IndexVersions(root)
        self.refresh_s = refresh_s
        self.analyzer = text_analyzer()
        self._lock = threading.Lock()
        self._index: tantivy.Index | None = None
        self._version: int | None = None
        self._refreshed_at = -refresh_s

    def refresh(self, *, force: bool = False) -> tantivy.Index | None:
        """The serving index, reopened if the pointer moved, reloaded if it is due."""
        now = time.monotonic()
        if not force and now - self._refreshed_at < self.refresh_s:
            return self._index  # the common case takes no lock: searches run side by side
        with self._lock:
            if not force and now - self._refreshed_at < self.refresh_s:
                return self._index
            self._refreshed_at = now
            version = self.versions.current()
            if version is None:
                self._index, self._version = None, None
            elif version != self._version or self._index is None:
                with contextlib.suppress(ValueError, OSError):  # a rebuild that just dropped it
                    self._index = tantivy.Index.open(str(self.versions.path(version)))
                    self._version = version
            else:
                try:
                    self._index.reload()
                except ValueError:  # its files are gone: reopen from the pointer next time
                    self._version = None
            return self._index

    def positions(self, *, force: bool = False) -> dict[str, int]:
        index = self.refresh(force=force)
        return read_positions(index) if index is not None else {}

    def applied(self, positions: Iterable[Position], topic: str) -> bool:
        """Whether the serving index covers every position of `topic` (reloading first)."""
        wanted = [p for p in positions if p.topic == topic]
        if not wanted:
            return True
        have = self.positions(force=True)
        return all(have.get(p.field, -1) >= p.offset for p in wanted)

    def search(
        self,
        query: SearchQuery,
        author_ids: Sequence[int],
        *,
        sort: SearchSort,
        limit: int,
        after: int | None,
    ) -> list[Hit]:
        """Up to `limit` hits following `after`: a tweet id for `recent` (newest first), a
        rank for `relevance` (best first, newest first among equals)."""
        index = self.refresh()
        if index is None:
            return []
        engine_query = self._engine_query(index.schema, query, author_ids)
        if engine_query is None:
            return []
        searcher = index.searcher()
        if sort == "recent":
            if after is not None:
                below = tantivy.Query.range_query(
                    index.schema,
                    "tweet_id",
                    tantivy.FieldType.Unsigned,
                    lower_bound=0,
                    upper_bound=after,
                    include_upper=False,
                )
                engine_query = tantivy.Query.boolean_query(
                    [(tantivy.Occur.Must, engine_query), (tantivy.Occur.Must, below)]
                )
            result = searcher.search(engine_query, limit, count=False, order_by_field="tweet_id")
            return _hits(searcher, [address for _, address in result.hits], first_rank=1)
        skip = after or 0
        if skip + limit > MAX_RANK:  # the engine keeps offset + limit hits in memory
            return []
        result = searcher.search(engine_query, limit, count=False, offset=skip)
        return _hits(searcher, [address for _, address in result.hits], first_rank=skip + 1)

    def latest(self, *, limit: int, before: int | None) -> list[int]:
        """Up to `limit` ids of indexed tweets below `before`, newest first: every original
        tweet of the instance (the public timeline), without a query."""
        index = self.refresh()
        if index is None:
            return []
        # A range, not every document: the index also keeps documents that are no tweet
        # (its committed positions).
        query = tantivy.Query.range_query(
            index.schema,
            "tweet_id",
            tantivy.FieldType.Unsigned,
            lower_bound=0,
            upper_bound=before if before is not None else 2**64 - 1,
            include_upper=before is None,
        )
        result = index.searcher().search(query, limit, count=False, order_by_field="tweet_id")
        return [int(key) for key, _ in result.hits if key is not None]

    def _engine_query(
        self, schema: tantivy.Schema, query: SearchQuery, author_ids: Sequence[int]
    ) -> tantivy.Query | None:
        """The query as tantivy's, or None when nothing can match (say, a word of only
        characters the tokenizer drops, or no author behind a `from:` handle)."""
        musts: list[tantivy.Query] = []
        for word in query.words:
            terms = self.analyzer.analyze(word)
            if not terms:
                return None
            musts += [tantivy.Query.term_query(schema, "text", term) for term in terms]
        for phrase in query.phrases:
            terms = self.analyzer.analyze(" ".join(phrase))
            if not terms:
                return None
            if len(terms) == 1:  # a phrase query needs two terms at least
                musts.append(tantivy.Query.term_query(schema, "text", terms[0]))
            else:
                musts.append(tantivy.Query.phrase_query(schema, "text", list(terms)))
        for hashtag in query.hashtags:
            musts.append(tantivy.Query.term_query(schema, "hashtag", hashtag))
        if query.handles:
            if not author_ids:
                return None
            authors = [
                (tantivy.Occur.Should, tantivy.Query.term_query(schema, "author_id", author))
                for author in author_ids
            ]
            musts.append(tantivy.Query.boolean_query(authors))
        if not musts:
            return None
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in musts])


def _hits(searcher: tantivy.Searcher, addresses: list[Any], *, first_rank: int) -> list[Hit]:
    """The hits at these document addresses, in order, ids and authors from the fast fields."""
    tweet_ids = searcher.fast_field_values("tweet_id", addresses)
    author_ids = searcher.fast_field_values("author_id", addresses)
    return [
        Hit(rank, int(tweet_id or 0), int(author_id or 0))
        for rank, (tweet_id, author_id) in enumerate(
            zip(tweet_ids, author_ids, strict=True), start=first_rank
        )
    ]
