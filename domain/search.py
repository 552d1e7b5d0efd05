"""Search, the pure part: what a search query says, and how events change the searchable set.

A query is words (ranked, stemmed by the index), `"quoted phrases"`, `#hashtags` and
`from:handle`; every part must match (`from:` given twice means either author). Parsing never
talks to an index: `projections.search_index` turns a `SearchQuery` into the engine's query.

`index_changes(event)` says what one event does to the tweet index: a post is (re)placed by
tweet id, a delete removes it, everything else changes nothing. Applying the changes twice
leaves the same index, which is what makes re-reading the log after a crash safe.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from domain.errors import DomainError
from domain.events import Event, TweetDeleted, TweetPosted
from domain.text import HANDLE_PATTERN

MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 20  # words, phrases, hashtags and authors together

SearchSort = Literal["recent", "relevance"]

# A word is a run of letters, digits or underscores (as the index's tokenizer splits text).
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_HASHTAG_BODY = re.compile(r"\w*[^\W\d]\w*")
_FROM = "from:"


class InvalidSearchQuery(DomainError):
    """The search text cannot be read as a query (the message says why)."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Every part must match; `handles` name authors, any one of which may have written it."""

    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()  # each of two or more words, in order
    hashtags: tuple[str, ...] = ()  # case-folded, without '#'
    handles: tuple[str, ...] = ()  # lower-cased, without 'from:'

    @property
    def has_text(self) -> bool:
        """Whether relevance can rank it (words or phrases); tags and authors only filter."""
        return bool(self.words or self.phrases)


def parse_search_query(text: str) -> SearchQuery:
    """Read `q`. Unbalanced quotes, an empty query, a bad `from:` handle or `#` tag, or too
    many terms are refused with `InvalidSearchQuery`."""
    text = unicodedata.normalize("NFC", text)
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidSearchQuery(f"the query is longer than {MAX_QUERY_CHARS} characters")
    if text.count('"') % 2:
        raise InvalidSearchQuery('a quoted phrase is not closed: quotes (") must come in pairs')
    words: list[str] = []
    phrases: list[tuple[str, ...]] = []
    hashtags: list[str] = []
    handles: list[str] = []
    for index, chunk in enumerate(text.split('"')):
        if index % 2:  # inside quotes
            phrase = tuple(_WORD.findall(chunk))
            if len(phrase) > 1:
                phrases.append(phrase)
            else:  # `"word"` is the word; `""` is nothing
                words.extend(phrase)
            continue
        for token in chunk.split():
            if token.lower().startswith(_FROM):
                handles.append(_handle(token[len(_FROM) :]))
            elif token.startswith(("#", "\uff03")):
                hashtags.append(_hashtag(token[1:]))
            else:
                words.extend(_WORD.findall(token))
    query = SearchQuery(
        tuple(dict.fromkeys(words)),
        tuple(dict.fromkeys(phrases)),
        tuple(dict.fromkeys(hashtags)),
        tuple(dict.fromkeys(handles)),
    )
    terms = len(query.words) + len(query.phrases) + len(query.hashtags) + len(query.handles)
    if terms == 0:
        raise InvalidSearchQuery("the query has no word, phrase, #hashtag or from:handle")
    if terms > MAX_QUERY_TERMS:
        raise InvalidSearchQuery(f"the query has more than {MAX_QUERY_TERMS} terms")
    return query


def _handle(text: str) -> str:
    if not HANDLE_PATTERN.fullmatch(text):
        raise InvalidSearchQuery(
            f"from:{text} does not name a handle (1-15 ASCII letters, digits or underscores)"
        )
    return text.lower()


def _hashtag(text: str) -> str:
    body = text.rstrip(".,;:!?)")  # "#python," in running prose
    if not _HASHTAG_BODY.fullmatch(body):
        raise InvalidSearchQuery(f"#{text} is not a hashtag (letters, digits or underscores)")
    return body.casefold()


@dataclass(frozen=True, slots=True)
class TweetDocument:
    """What the index keeps of a tweet: enough to match and order it, nothing to show."""

    tweet_id: int
    author_id: int
    text: str
    hashtags: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class PutTweet:
    """Replace whatever the index holds under this tweet id with this document."""

    document: TweetDocument


@dataclass(frozen=True, slots=True)
class RemoveTweet:
    tweet_id: int


IndexChange = PutTweet | RemoveTweet


def index_changes(event: Event) -> tuple[IndexChange, ...]:
    """What one event does to the tweet index. Retweets and likes are not documents: search
    finds the original. An erased account's tweets leave by the `TweetDeleted` events its
    erasure produces first; a future event that removed an author's tweets wholesale would
    map here to a delete by author."""
    if isinstance(event, TweetPosted):
        document = TweetDocument(event.tweet_id, event.author_id, event.text, event.hashtags)
        return (PutTweet(document),)
    if isinstance(event, TweetDeleted):
        return (RemoveTweet(event.tweet_id),)
    return ()
