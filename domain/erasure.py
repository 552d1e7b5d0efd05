"""Account erasure: what to log so that every read model forgets an account.

The log is the source of truth, so an erasure is itself events: first the take-back of
everything the account did that lives in other aggregates' read models, through the events
those read models already undo (`TweetDeleted`, `RetweetUndone`, `TweetUnliked`,
`UserUnfollowed` both ways, `BookmarkRemoved`, `ListDeleted`), then `AccountErased`, on which
the projections that keep the account's own state (profile, password, name index, uploads)
drop it. Every one of them is idempotent and each take-back shares its partition with the
event it undoes, so a replay in any interleaving of topics comes out the same.

Pure: the caller lists the account's footprint from the read models; this decides the events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.events import (
    AccountErased,
    BookmarkRemoved,
    Event,
    ListDeleted,
    RetweetUndone,
    TweetDeleted,
    TweetUnliked,
    UserUnfollowed,
)


@dataclass(frozen=True, slots=True)
class OwnTweet:
    """One of the account's live tweets, as its deletion must describe it."""

    tweet_id: int
    created_at_ms: int
    reply_to: int | None = None
    hashtags: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class TweetOfOther:
    """A tweet the account retweeted or liked, and its author (whom the undo notifies)."""

    tweet_id: int
    author_id: int | None


@dataclass(frozen=True, slots=True)
class Footprint:
    """What an account did that read models keep, as listed from them."""

    user_id: int
    tweets: tuple[OwnTweet, ...] = ()
    retweeted: tuple[TweetOfOther, ...] = ()
    liked: tuple[TweetOfOther, ...] = ()
    following: tuple[int, ...] = ()
    followers: tuple[int, ...] = ()
    bookmarked: tuple[int, ...] = ()  # tweet ids
    owned_lists: tuple[int, ...] = ()  # list ids
    media_ids: tuple[int, ...] = ()


def erase_account(footprint: Footprint, *, now_ms: int) -> list[Event]:
    """The take-backs of the account's footprint, then `AccountErased` (always last)."""
    user_id = footprint.user_id
    events: list[Event] = []
    for tweet in footprint.tweets:
        events.append(
            TweetDeleted(
                tweet_id=tweet.tweet_id,
                author_id=user_id,
                deleted_at_ms=now_ms,
                created_at_ms=tweet.created_at_ms,
                reply_to=tweet.reply_to,
                hashtags=tweet.hashtags,
            )
        )
    for retweeted in footprint.retweeted:
        events.append(
            RetweetUndone(
                tweet_id=retweeted.tweet_id,
                user_id=user_id,
                undone_at_ms=now_ms,
                tweet_author_id=retweeted.author_id,
            )
        )
    for liked in footprint.liked:
        events.append(
            TweetUnliked(
                tweet_id=liked.tweet_id,
                user_id=user_id,
                unliked_at_ms=now_ms,
                tweet_author_id=liked.author_id,
            )
        )
    following = sorted(set(footprint.following) - {user_id})
    followers = sorted(set(footprint.followers) - {user_id})
    events += [UserUnfollowed(user_id, followee, now_ms) for followee in following]
    events += [UserUnfollowed(follower, user_id, now_ms) for follower in followers]
    events += [BookmarkRemoved(user_id, tweet_id, now_ms) for tweet_id in footprint.bookmarked]
    events += [ListDeleted(list_id, user_id, now_ms) for list_id in footprint.owned_lists]
    events.append(
        AccountErased(
            user_id=user_id,
            erased_at_ms=now_ms,
            tweets_deleted=len(footprint.tweets),
            retweets_undone=len(footprint.retweeted),
            likes_removed=len(footprint.liked),
            follows_removed=len(following) + len(followers),
            media_removed=len(footprint.media_ids),
            media_ids=tuple(sorted(set(footprint.media_ids))),
        )
    )
    return events
