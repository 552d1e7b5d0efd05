"""Text rules: tweet length, handles, display names, hashtags and mentions.

Lengths count Unicode code points after NFC normalisation, so "é" typed as one or two
code points counts once. Hashtags and mentions are Unicode letters, digits and underscore;
hashtags are compared case-insensitively (stored case-folded).
"""

from __future__ import annotations

import re
import unicodedata

from domain.errors import (
    InvalidBio,
    InvalidDisplayName,
    InvalidEmail,
    InvalidHandle,
    InvalidPassword,
    InvalidTweetText,
)

MAX_TWEET_CHARS = 280
MAX_DISPLAY_NAME_CHARS = 50
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 128
HANDLE_PATTERN = re.compile(r"[A-Za-z0-9_]{1,15}")
MAX_EMAIL_CHARS = 254
MAX_BIO_CHARS = 500
# One `@`, no spaces, a dotted domain: what a form accepts, not RFC 5322 in full.
EMAIL_PATTERN = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
RESERVED_HANDLES = frozenset({"me"})  # `/v1/users/me` is the caller's own account

# A word character that is not a digit-only run: hashtags need at least one letter or "_".
_TAG_BODY = r"[^\W]*[^\W\d][^\W]*"
_HASHTAG = re.compile(r"(?<![\w#\uff03&])[#\uff03](" + _TAG_BODY + r")")
_MENTION = re.compile(r"(?<![\w@\uff20])[@\uff20]([A-Za-z0-9_]{1,15})(?![\w@])")


def normalize_tweet_text(text: str) -> str:
    """NFC-normalised text, checked against the tweet rules."""
    normalized = unicodedata.normalize("NFC", text)
    if not normalized.strip():
        raise InvalidTweetText("text must contain at least one non-whitespace character")
    if len(normalized) > MAX_TWEET_CHARS:
        raise InvalidTweetText(
            f"text is {len(normalized)} characters long; the limit is {MAX_TWEET_CHARS}"
        )
    return normalized


def extract_hashtags(text: str) -> tuple[str, ...]:
    """Distinct hashtags in order of first appearance, case-folded (`#Py` and `#py` are one)."""
    seen: dict[str, None] = {}
    for match in _HASHTAG.finditer(text):
        seen.setdefault(match.group(1).casefold(), None)
    return tuple(seen)


def extract_mentions(text: str) -> tuple[str, ...]:
    """Distinct mentioned handles in order of first appearance, lower-cased."""
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(text):
        seen.setdefault(match.group(1).lower(), None)
    return tuple(seen)


def check_handle(handle: str) -> str:
    """The handle as given, if it is 1-15 ASCII letters, digits or underscores."""
    if not HANDLE_PATTERN.fullmatch(handle):
        raise InvalidHandle("handle must be 1-15 characters: ASCII letters, digits or underscore")
    if handle_key(handle) in RESERVED_HANDLES:
        raise InvalidHandle(f"the handle {handle!r} is reserved")
    return handle


def handle_key(handle: str) -> str:
    """Handles are unique regardless of case: `Alice` and `alice` are the same account."""
    return handle.lower()


def check_display_name(display_name: str) -> str:
    normalized = unicodedata.normalize("NFC", display_name).strip()
    if len(normalized) > MAX_DISPLAY_NAME_CHARS:
        raise InvalidDisplayName(
            f"display name must be at most {MAX_DISPLAY_NAME_CHARS} characters"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in normalized):
        raise InvalidDisplayName("display name must not contain control characters")
    return normalized


def check_email(email: str) -> str:
    """The address, trimmed, if it looks like one mail could go to."""
    address = email.strip()
    if len(address) > MAX_EMAIL_CHARS or not EMAIL_PATTERN.fullmatch(address):
        raise InvalidEmail("email is not a valid address")
    return address


def email_key(email: str) -> str:
    """Email addresses are one account's regardless of case."""
    return email.strip().lower()


def check_bio(bio: str) -> str:
    """A bio: NFC-normalised, trimmed, at most 500 characters, line breaks allowed."""
    normalized = unicodedata.normalize("NFC", bio).strip()
    if len(normalized) > MAX_BIO_CHARS:
        raise InvalidBio(f"note must be at most {MAX_BIO_CHARS} characters")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in normalized):
        raise InvalidBio("note must not contain control characters")
    return normalized


def check_password(password: str) -> str:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidPassword(
            f"password must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters long"
        )
    return password
