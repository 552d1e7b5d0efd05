"""Mastodon statuses rendered from `/v1` tweet views: safe HTML content, reblog wrappers and
media attachments (pure functions, no I/O)."""

from __future__ import annotations

from html.parser import HTMLParser

from api.mastodon.content import status_html
from api.mastodon.statuses_entity import StatusFacts, media_attachment, status_entity
from domain.text import extract_hashtags, extract_mentions

BASE = "https://chirp.example/"


def test_text_is_escaped_and_nothing_raw_gets_through() -> None:
    html = status_html('<script>alert("x")</script> & <b>bold</b>', BASE, {})
    assert "<script>" not in html and "<b>" not in html
    assert html == '<p>&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;</p>'


def test_paragraphs_and_line_breaks_are_kept() -> None:
    assert status_html("one\ntwo\n\nthree", BASE, {}) == "<p>one<br />two</p><p>three</p>"


def test_known_mentions_hashtags_and_urls_are_linked() -> None:
    text = "hi @Alice and @nobody, see https://example.com/a?b=1&c=2. #Python"
    html = status_html(text, BASE, {"alice": "https://chirp.example/@Alice"})
    assert (
        '<a href="https://chirp.example/@Alice" class="u-url mention">@<span>Alice</span></a>'
        in html
    )
    assert "@nobody" in html and "/@nobody" not in html  # unknown accounts stay plain text
    assert 'href="https://example.com/a?b=1&amp;c=2"' in html
    assert "</a>. " in html  # the full stop ends the sentence, not the URL
    assert 'href="https://chirp.example/search?q=%23python" class="mention hashtag"' in html


def test_linked_mentions_and_tags_follow_the_domain_rules() -> None:
    text = "a@b @c_1 x#no #yes #123 (@d) \uff03wide"
    html = status_html(text, BASE, {h: f"{BASE}@{h}" for h in extract_mentions(text)})
    for handle in extract_mentions(text):
        assert f"@<span>{handle}</span>" in html.lower()
    for tag in extract_hashtags(text):
        assert f"#<span>{tag}</span>" in html.lower()
    assert html.count('class="u-url mention"') == len(extract_mentions(text))
    assert html.count("hashtag") == len(extract_hashtags(text))


class Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names |= {name for name, _ in attrs}


def test_an_attribute_cannot_be_broken_out_of() -> None:
    parser = Attributes()
    parser.feed(status_html('https://x.example/"onmouseover=alert(1) #a"b=c @x"y', BASE, {}))
    assert parser.names <= {"href", "class", "rel", "target", "translate"}
    assert parser.names >= {"href"}


def tweet(tweet_id: str, **fields: object) -> dict[str, object]:
    return {
        "id": tweet_id,
        "author": {"id": "7", "handle": "bob", "display_name": "Bob"},
        "text": "hello @alice #tag",
        "created_at": "2026-01-01T00:00:00.000+00:00",
        "reply_to": "5",
        "quote_of": None,
        "retweet_of": None,
        "media": [],
        "hashtags": ["tag"],
        "mentions": ["alice"],
        "like_count": 2,
        "retweet_count": 1,
        "reply_count": 0,
        **fields,
    }


def test_a_status_carries_counts_mentions_tags_and_the_viewers_state() -> None:
    facts = StatusFacts(
        BASE, favourited=frozenset({"9"}), account_ids={"alice": "3"}, reply_authors={"5": "4"}
    )
    status = status_entity(tweet("9"), facts)
    assert status["id"] == "9" and status["account"]["acct"] == "bob"
    assert status["favourited"] is True and status["reblogged"] is False
    assert status["favourites_count"] == 2 and status["reblogs_count"] == 1
    assert status["mentions"] == [
        {"id": "3", "username": "alice", "acct": "alice", "url": "https://chirp.example/@alice"}
    ]
    assert status["tags"][0]["name"] == "tag"
    assert status["in_reply_to_id"] == "5" and status["in_reply_to_account_id"] == "4"
    assert status["url"] == "https://chirp.example/tweets/9" and status["reblog"] is None


def test_a_retweet_entry_is_a_reblog_wrapping_the_original() -> None:
    original = tweet("9")
    entry = {
        **original,
        "id": "12",
        "author": {"id": "8", "handle": "carol", "display_name": None},
        "retweet_of": "9",
        "retweeted_tweet": original,
    }
    status = status_entity(entry, StatusFacts(BASE, reblogged=frozenset({"9"})))
    assert status["id"] == "12" and status["account"]["acct"] == "carol"
    assert status["content"] == "" and status["reblogs_count"] == 0
    assert status["reblog"]["id"] == "9" and status["reblog"]["account"]["acct"] == "bob"
    assert status["reblog"]["reblogged"] is True and status["reblogged"] is True


def test_media_attachments_have_absolute_urls_and_dimensions() -> None:
    view = {
        "id": "44",
        "url": "/media/44",
        "content_type": "image/png",
        "width": 800,
        "height": 400,
        "alt_text": "a cat",
        "variants": {"small": {"url": "/media/44/small", "width": 680, "height": 340}},
    }
    attachment = media_attachment(view, BASE)
    assert attachment["type"] == "image" and attachment["description"] == "a cat"
    assert attachment["url"] == "https://chirp.example/media/44"
    assert attachment["preview_url"] == "https://chirp.example/media/44/small"
    assert attachment["meta"]["original"]["size"] == "800x400"
    assert media_attachment({"id": "45"}, BASE)["url"] == "https://chirp.example/media/45"
