"""Decisions: check a command's invariants, then return the event it produces."""

from __future__ import annotations

import math
from dataclasses import replace

from domain.commands import DeleteTweet, GeoPoint, PostTweet, RegisterUser, UpdateProfile
from domain.errors import (
    CannotFollowSelf,
    InvalidAttachments,
    InvalidLocation,
    InvalidReadMarker,
    NotTheAuthor,
)
from domain.events import (
    NotificationsRead,
    ProfileUpdated,
    RetweetUndone,
    TweetDeleted,
    TweetLiked,
    TweetPosted,
    TweetRetweeted,
    TweetUnliked,
    UserFollowed,
    UserRegistered,
    UserUnfollowed,
)
from domain.text import (
    check_bio,
    check_display_name,
    check_email,
    check_handle,
    check_password,
    extract_hashtags,
    extract_mentions,
    normalize_tweet_text,
)


def validate_registration(command: RegisterUser) -> RegisterUser:
    """The command with its display name normalised; raises if any field breaks a rule."""
    handle = check_handle(command.handle)
    check_password(command.password)
    display_name = check_display_name(command.display_name or handle) or handle
    email = check_email(command.email) if command.email is not None else None
    return RegisterUser(
        handle=handle, password=command.password, display_name=display_name, email=email
    )


def register_user(
    command: RegisterUser, *, user_id: int, password_hash: str, now_ms: int
) -> UserRegistered:
    valid = validate_registration(command)
    return UserRegistered(
        user_id=user_id,
        handle=valid.handle,
        display_name=valid.display_name or valid.handle,
        password_hash=password_hash,
        registered_at_ms=now_ms,
        email=valid.email,
    )


def update_profile(command: UpdateProfile, *, now_ms: int) -> ProfileUpdated:
    """A profile change: the display name and bio checked (an empty display name shows the
    handle), the avatar an upload the use case has checked is the user's own image."""
    display_name = None
    if command.display_name is not None:
        display_name = check_display_name(command.display_name) or command.handle
    return ProfileUpdated(
        user_id=command.user_id,
        handle=command.handle,
        updated_at_ms=now_ms,
        display_name=display_name,
        bio=check_bio(command.bio) if command.bio is not None else None,
        avatar_media_id=command.avatar_media_id,
    )


def check_location(location: GeoPoint) -> GeoPoint:
    if not (math.isfinite(location.lat) and -90.0 <= location.lat <= 90.0):
        raise InvalidLocation("lat must be within -90..90")
    if not (math.isfinite(location.lon) and -180.0 <= location.lon <= 180.0):
        raise InvalidLocation("lon must be within -180..180")
    return location


def post_tweet(command: PostTweet, *, tweet_id: int, now_ms: int) -> TweetPosted:
    text = normalize_tweet_text(command.text)
    return TweetPosted(
        tweet_id=tweet_id,
        author_id=command.author_id,
        text=text,
        created_at_ms=now_ms,
        reply_to=command.reply_to,
        quote_of=command.quote_of,
        media_ids=tuple(dict.fromkeys(command.media_ids)),
        location=check_location(command.location) if command.location else None,
        hashtags=extract_hashtags(text),
        mentions=extract_mentions(text),
    )


MAX_IMAGES_PER_TWEET = 4


def check_attachments(author_id: int, attachments: list[tuple[int, int, str]]) -> None:
    """A tweet carries up to four images or one video alone, and only its author's uploads:
    `attachments` is (media id, owner id, content type) for each attached id that exists."""
    for media_id, owner_id, _ in attachments:
        if owner_id != author_id:
            raise InvalidAttachments(f"media {media_id} is not one of your uploads")
    videos = [media_id for media_id, _, kind in attachments if kind.startswith("video/")]
    if videos and len(attachments) > 1:
        raise InvalidAttachments("a video goes alone: no other media with it")
    if len(attachments) > MAX_IMAGES_PER_TWEET:
        raise InvalidAttachments(f"at most {MAX_IMAGES_PER_TWEET} images per tweet")


def follow(follower_id: int, followee_id: int, *, now_ms: int) -> UserFollowed:
    if follower_id == followee_id:
        raise CannotFollowSelf("you cannot follow yourself")
    return UserFollowed(follower_id=follower_id, followee_id=followee_id, followed_at_ms=now_ms)


def unfollow(follower_id: int, followee_id: int, *, now_ms: int) -> UserUnfollowed:
    if follower_id == followee_id:
        raise CannotFollowSelf("you cannot unfollow yourself")
    return UserUnfollowed(follower_id=follower_id, followee_id=followee_id, unfollowed_at_ms=now_ms)


def delete_tweet(command: DeleteTweet, *, now_ms: int) -> TweetDeleted:
    """Deletion of a tweet as it was posted; only its author may delete it."""
    if command.author_id != command.requested_by:
        raise NotTheAuthor("only the author can delete a tweet")
    return TweetDeleted(
        tweet_id=command.tweet_id,
        author_id=command.author_id,
        deleted_at_ms=now_ms,
        created_at_ms=command.created_at_ms,
        reply_to=command.reply_to,
        hashtags=command.hashtags,
    )


def address_tweet(
    event: TweetPosted,
    *,
    reply_to_author_id: int | None,
    quote_of_author_id: int | None,
    mentioned_user_ids: tuple[int, ...],
) -> TweetPosted:
    """The tweet naming whom it addresses, as resolved when it is posted: the authors of the
    tweets it replies to and quotes, and the registered users its mentions name."""
    return replace(
        event,
        reply_to_author_id=reply_to_author_id if event.reply_to is not None else None,
        quote_of_author_id=quote_of_author_id if event.quote_of is not None else None,
        mentioned_user_ids=tuple(dict.fromkeys(mentioned_user_ids)),
    )


def like(
    tweet_id: int, user_id: int, *, now_ms: int, tweet_author_id: int | None = None
) -> TweetLiked:
    return TweetLiked(
        tweet_id=tweet_id, user_id=user_id, liked_at_ms=now_ms, tweet_author_id=tweet_author_id
    )


def unlike(
    tweet_id: int, user_id: int, *, now_ms: int, tweet_author_id: int | None = None
) -> TweetUnliked:
    return TweetUnliked(
        tweet_id=tweet_id, user_id=user_id, unliked_at_ms=now_ms, tweet_author_id=tweet_author_id
    )


def retweet(
    tweet_id: int,
    user_id: int,
    *,
    retweet_id: int,
    now_ms: int,
    tweet_author_id: int | None = None,
) -> TweetRetweeted:
    return TweetRetweeted(
        retweet_id=retweet_id,
        tweet_id=tweet_id,
        user_id=user_id,
        retweeted_at_ms=now_ms,
        tweet_author_id=tweet_author_id,
    )


def undo_retweet(
    tweet_id: int, user_id: int, *, now_ms: int, tweet_author_id: int | None = None
) -> RetweetUndone:
    return RetweetUndone(
        tweet_id=tweet_id, user_id=user_id, undone_at_ms=now_ms, tweet_author_id=tweet_author_id
    )


# How far ahead of this clock a read marker may be (clients echo times other API processes
# wrote, whose clocks may run slightly ahead).
READ_MARKER_SKEW_MS = 60_000


def mark_notifications_read(
    user_id: int, last_seen_at_ms: int, *, now_ms: int
) -> NotificationsRead:
    """The user has seen their notifications up to a time; not before the epoch, not later
    than now (a marker in the future would hide notifications that have not happened)."""
    if last_seen_at_ms < 0 or last_seen_at_ms > now_ms + READ_MARKER_SKEW_MS:
        raise InvalidReadMarker(
            "up_to must be a notification time, not before 1970 nor in the future"
        )
    return NotificationsRead(user_id=user_id, last_seen_at_ms=last_seen_at_ms, read_at_ms=now_ms)
