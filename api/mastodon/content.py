"""A status's `content`: safe HTML built from a tweet's plain text, as Mastodon renders it.

Everything is escaped; links are made only for URLs, hashtags and mentions of accounts that
exist (`account_urls`), and paragraphs (blank lines) and line breaks are kept. A pure
function: no I/O, the same text always gives the same HTML. Never lets any text of the tweet
through unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from urllib.parse import quote

# The same rules as `domain.text` (what a tweet's `mentions` and `hashtags` list), with URLs
# first, so that a `#fragment` or an `@` inside a URL stays part of the link.
_URL = r"(?P<url>https?://[^\s<>\"'\u00a0]+)"
_MENTION = r"(?<![\w@\uff20])[@\uff20](?P<mention>[A-Za-z0-9_]{1,15})(?![\w@])"
_HASHTAG = r"(?<![\w#\uff03&])[#\uff03](?P<tag>[^\W]*[^\W\d][^\W]*)"
_TOKEN = re.compile(f"{_URL}|{_MENTION}|{_HASHTAG}")
# Punctuation that ends a sentence rather than a URL.
_URL_TRAILER = ".,;:!?)]}'\""
_PARAGRAPH_BREAK = re.compile(r"(?:\r\n|\r|\n)[ \t]*(?:\r\n|\r|\n)\s*")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def tag_url(base_url: str, tag: str) -> str:
    """Where a hashtag's tweets are listed (the web client's search for it)."""
    return f"{base_url.rstrip('/')}/search?q={quote('#' + tag.casefold(), safe='')}"


def profile_url(base_url: str, handle: str) -> str:
    return f"{base_url.rstrip('/')}/@{handle}"


def status_html(text: str, base_url: str, account_urls: Mapping[str, str]) -> str:
    """`<p>` per paragraph, `<br />` per line break, links for URLs, hashtags and mentions of
    known accounts (`account_urls`: lower-cased handle -> profile URL)."""
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(text.strip()) if p]
    rendered = (
        "<br />".join(_linked(line, base_url, account_urls) for line in _LINE_BREAK.split(p))
        for p in paragraphs
    )
    return "".join(f"<p>{paragraph}</p>" for paragraph in rendered)


def _linked(line: str, base_url: str, account_urls: Mapping[str, str]) -> str:
    out: list[str] = []
    done = 0
    for match in _TOKEN.finditer(line):
        start, end = match.span()
        if match["url"] is not None:
            url = match["url"].rstrip(_URL_TRAILER)
            end = start + len(url)
            if len(url) <= len("https://"):
                continue
            html = _url_link(url)
        elif match["mention"] is not None:
            found = account_urls.get(match["mention"].lower())
            if found is None:  # nobody has that handle: plain text, as Mastodon leaves it
                continue
            html = (
                f'<span class="h-card" translate="no"><a href="{escape(found)}" '
                f'class="u-url mention">@<span>{escape(match["mention"])}</span></a></span>'
            )
        else:
            html = (
                f'<a href="{escape(tag_url(base_url, match["tag"]))}" class="mention hashtag" '
                f'rel="tag">#<span>{escape(match["tag"])}</span></a>'
            )
        out.append(escape(line[done:start], quote=False))
        out.append(html)
        done = end
    out.append(escape(line[done:], quote=False))
    return "".join(out)


def _url_link(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return (
        f'<a href="{escape(url)}" target="_blank" rel="nofollow noopener noreferrer" '
        f'translate="no"><span class="invisible">{escape(scheme)}://</span>'
        f'<span class="">{escape(rest)}</span><span class="invisible"></span></a>'
    )
