"""The use cases: every write the API accepts, and log-in, as rules over small ports.

A route parses HTTP, calls one of these and renders what it returns. Here live the rules no
single command can decide alone: a reply or quote names a live tweet, a handle is claimed once
whatever its case, an unknown followee is refused, a retweet or follow already made produces
nothing, a follow holds the follower's home timeline before it is published. What a command can
decide by itself (text rules, deleting only your own tweet, not following yourself) stays in
`domain.model`. Must never import HTTP, Redis, Kafka or a projection: only the ports.

Consistency a client need not know about: every write is remembered for its user (that user's
next reads wait for it), and a tweet or user that a write names but the read models do not
show yet is waited for (bounded) when its id is young or its handle is claimed, instead of
being refused at once: the projections lag the log by milliseconds. An old id that names
nothing is refused without waiting.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Generic, TypeVar

from api.auth import Caller
from api.media_processing import InvalidMedia, UnsupportedMedia
from api.use_cases.errors import (
    EmailTaken,
    HandleTaken,
    MediaNotAccepted,
    MediaUnusable,
    ReadModelBehind,
    TweetNotFound,
    UserNotFound,
    WrongCredentials,
)
from api.use_cases.ports import (
    Clock,
    EventLog,
    FollowGraph,
    FollowHolds,
    HandleClaims,
    Ids,
    LiveTweet,
    MediaInspector,
    MediaLookup,
    MediaStore,
    PasswordHasher,
    RecentWrites,
    SessionTokens,
    TweetLookup,
    Upload,
    UserLookup,
)
from domain import model
from domain.commands import DeleteTweet, PostTweet, RegisterUser, UpdateProfile
from domain.errors import InvalidAttachments
from domain.events import (
    Event,
    MediaUploaded,
    MediaVariant,
    ProfileUpdated,
    TweetPosted,
    UserRegistered,
)
from domain.ids import made_lately
from domain.text import email_key, handle_key
from schemas.log import Position

EventT = TypeVar("EventT", bound=Event)


def media_object_key(media_id: int, variant: str) -> str:
    """Where one rendition of an upload lives in the object store."""
    return f"{media_object_prefix(media_id)}{variant}"


def email_claim(email: str) -> str:
    """The claim key of an email address: its digest (a claim names no address). No handle
    has a `-` or `:`, so it never meets a handle's claim."""
    return "email-sha256:" + hashlib.sha256(email_key(email).encode()).hexdigest()


def media_object_prefix(media_id: int) -> str:
    """What the object keys of every rendition of an upload start with."""
    return f"{media_id}/"


@dataclass(frozen=True, slots=True)
class Published(Generic[EventT]):
    """An event a use case produced and where the log put it."""

    event: EventT
    position: Position


@dataclass(frozen=True, slots=True)
class Session:
    access_token: str
    expires_in_s: int


@dataclass(frozen=True, slots=True)
class UseCases:
    tweets: TweetLookup
    users: UserLookup
    graph: FollowGraph
    claims: HandleClaims
    holds: FollowHolds
    log: EventLog
    ids: Ids
    passwords: PasswordHasher
    tokens: SessionTokens
    clock: Clock
    recent_writes: RecentWrites
    young_id_ms: int  # a missing tweet or user whose id is this young is waited for
    media_store: MediaStore
    media: MediaInspector
    uploads: MediaLookup

    async def register(
        self, command: RegisterUser, *, correlation_id: str | None = None
    ) -> Published[UserRegistered]:
        """Register an account under a handle nobody holds, whatever its case (and an email
        address no other account has, if one is given)."""
        valid = model.validate_registration(command)
        user_id = self.ids.next_id()
        claim = handle_key(valid.handle)
        if not await self.claims.claim(claim, user_id):
            raise HandleTaken(valid.handle)
        claims = [claim]
        try:
            if valid.email is not None:
                if not await self.claims.claim(email_claim(valid.email), user_id):
                    raise EmailTaken
                claims.append(email_claim(valid.email))
            # Claims live in Redis, which may have lost some (wiped, or restarted from an older
            # file): then only the users read model knows the handles registered before, once
            # it has applied the whole log. It is asked while the password hashes.
            password_hash, complete = await asyncio.gather(
                self.passwords.hash(valid.password), self.users.caught_up()
            )
            if not complete:
                raise ReadModelBehind("users")
            if await self.users.user_id(valid.handle) is not None:
                raise HandleTaken(valid.handle)
            if valid.email is not None and await self.users.user_id_for_email(valid.email):
                raise EmailTaken
            event = model.register_user(
                valid, user_id=user_id, password_hash=password_hash, now_ms=self.clock()
            )
            position = await self.log.publish(event, correlation_id=correlation_id)
        except BaseException:
            # Whatever went wrong, the handle must not stay claimed by an account that
            # was never published (nor an email address).
            for taken in claims:
                await self.claims.release(taken)
            raise
        await self.recent_writes.remember(user_id, position)
        return Published(event, position)

    async def log_in(self, handle: str, password: str) -> Session:
        """A bearer token for a handle and its password; a registration on its way to the
        read models (its handle is claimed) is waited for."""
        caller = await self.authenticate(handle, password)
        return Session(self.tokens.issue(caller), self.tokens.ttl_s)

    async def authenticate(self, login: str, password: str) -> Caller:
        """The user a handle (or the account's email address: it has an `@`, no handle does)
        and its password name (`WrongCredentials` otherwise)."""
        if "@" in login:
            user_id = await self._user_id_for_email(login)
        else:
            user_id = await self._registered_user_id(login)
        if user_id is None:
            raise WrongCredentials
        stored = await self.users.password_hash(user_id)
        if stored is None or not await self.passwords.verify(stored, password):
            raise WrongCredentials
        account = await self.users.account(user_id)
        if account is None:
            raise WrongCredentials
        return Caller(account.user_id, account.handle, account.display_name)

    async def post_tweet(
        self, command: PostTweet, *, correlation_id: str | None = None
    ) -> Published[TweetPosted]:
        """Post a tweet; a reply or a quote must name a live tweet. The event names whom the
        tweet addresses (replied-to and quoted authors, mentioned users that exist)."""
        authors: dict[int, int] = {}
        for referenced in (command.reply_to, command.quote_of):
            if referenced is not None:
                authors[referenced] = (await self._live_tweet(referenced)).author_id
        attached = [await self._upload(media_id) for media_id in dict.fromkeys(command.media_ids)]
        model.check_attachments(
            command.author_id, [(u.media_id, u.owner_id, u.content_type) for u in attached]
        )
        event = model.post_tweet(command, tweet_id=self.ids.next_id(), now_ms=self.clock())
        mentioned = await asyncio.gather(*(self.users.user_id(h) for h in event.mentions))
        event = model.address_tweet(
            event,
            reply_to_author_id=authors.get(command.reply_to) if command.reply_to else None,
            quote_of_author_id=authors.get(command.quote_of) if command.quote_of else None,
            mentioned_user_ids=tuple(user_id for user_id in mentioned if user_id is not None),
        )
        return Published(event, await self._publish(event, command.author_id, correlation_id))

    async def delete_tweet(
        self, tweet_id: int, requested_by: int, *, correlation_id: str | None = None
    ) -> Position:
        """Delete a live tweet; the domain refuses anyone but its author."""
        tweet = await self._live_tweet(tweet_id)
        command = DeleteTweet(
            tweet_id=tweet.tweet_id,
            author_id=tweet.author_id,
            requested_by=requested_by,
            created_at_ms=tweet.created_at_ms,
            reply_to=tweet.reply_to,
            hashtags=tweet.hashtags,
        )
        event = model.delete_tweet(command, now_ms=self.clock())
        return await self._publish(event, requested_by, correlation_id)

    async def like(
        self, tweet_id: int, user_id: int, *, correlation_id: str | None = None
    ) -> Position:
        """Like a live tweet; a second like is applied as the first (the read model is a set)."""
        tweet = await self._live_tweet(tweet_id)
        event = model.like(tweet_id, user_id, now_ms=self.clock(), tweet_author_id=tweet.author_id)
        return await self._publish(event, user_id, correlation_id)

    async def unlike(
        self, tweet_id: int, user_id: int, *, correlation_id: str | None = None
    ) -> Position:
        tweet = await self._live_tweet(tweet_id)
        event = model.unlike(
            tweet_id, user_id, now_ms=self.clock(), tweet_author_id=tweet.author_id
        )
        return await self._publish(event, user_id, correlation_id)

    async def retweet(
        self, tweet_id: int, user_id: int, *, correlation_id: str | None = None
    ) -> Position | None:
        """Retweet a live tweet; None if the user has already retweeted it."""
        tweet = await self._live_tweet(tweet_id)
        if await self.tweets.retweet_by(tweet_id, user_id) is not None:
            return None
        event = model.retweet(
            tweet_id,
            user_id,
            retweet_id=self.ids.next_id(),
            now_ms=self.clock(),
            tweet_author_id=tweet.author_id,
        )
        return await self._publish(event, user_id, correlation_id)

    async def undo_retweet(
        self, tweet_id: int, user_id: int, *, correlation_id: str | None = None
    ) -> Position:
        tweet = await self._live_tweet(tweet_id)
        event = model.undo_retweet(
            tweet_id, user_id, now_ms=self.clock(), tweet_author_id=tweet.author_id
        )
        return await self._publish(event, user_id, correlation_id)

    async def follow(
        self, follower_id: int, followee_handle: str, *, correlation_id: str | None = None
    ) -> Position | None:
        """Follow a registered user; None if the follower already follows them."""
        followee_id = await self._user_id(followee_handle)
        event = model.follow(follower_id, followee_id, now_ms=self.clock())
        if await self.graph.is_following(follower_id, followee_id):
            return None
        await self.holds.hold(follower_id, followee_id)
        return await self._publish(event, follower_id, correlation_id)

    async def unfollow(
        self, follower_id: int, followee_handle: str, *, correlation_id: str | None = None
    ) -> Position | None:
        """Stop following a registered user; None if the follower does not follow them."""
        followee_id = await self._user_id(followee_handle)
        event = model.unfollow(follower_id, followee_id, now_ms=self.clock())
        if not await self.graph.is_following(follower_id, followee_id):
            return None
        await self.holds.hold(follower_id, followee_id)
        return await self._publish(event, follower_id, correlation_id)

    async def mark_notifications_read(
        self, user_id: int, last_seen_at_ms: int, *, correlation_id: str | None = None
    ) -> Position:
        """Mark the user's notifications read up to a notification time (never backwards)."""
        event = model.mark_notifications_read(user_id, last_seen_at_ms, now_ms=self.clock())
        return await self._publish(event, user_id, correlation_id)

    async def upload_media(
        self,
        owner_id: int,
        data: bytes,
        alt_text: str | None = None,
        *,
        correlation_id: str | None = None,
    ) -> Published[MediaUploaded]:
        """Store an image or video and its renditions, then publish what they are: the bytes
        are stored first, so no event ever names missing bytes. Nothing is stored for bytes
        that are no supported media or cannot be decoded."""
        try:
            processed = await self.media.inspect(data)
        except UnsupportedMedia as refused:
            raise MediaNotAccepted(str(refused)) from None
        except InvalidMedia as refused:
            raise MediaUnusable(str(refused)) from None
        media_id = self.ids.next_id()
        for rendition in processed.renditions:
            await self.media_store.put(
                media_object_key(media_id, rendition.name), rendition.data, rendition.content_type
            )
        event = MediaUploaded(
            media_id=media_id,
            owner_id=owner_id,
            content_type=processed.content_type,
            bytes=len(processed.original.data),
            width=processed.width,
            height=processed.height,
            uploaded_at_ms=self.clock(),
            variants=tuple(
                MediaVariant(r.name, r.content_type, r.width, r.height, len(r.data))
                for r in processed.renditions
            ),
            alt_text=alt_text or None,
            duration_s=processed.duration_s,
        )
        return Published(event, await self._publish(event, owner_id, correlation_id))

    async def update_profile(
        self, command: UpdateProfile, *, correlation_id: str | None = None
    ) -> Published[ProfileUpdated]:
        """Change the profile; an avatar must be one of the user's own image uploads."""
        if command.avatar_media_id is not None:
            avatar = await self._upload(command.avatar_media_id)
            if avatar.owner_id != command.user_id or not avatar.content_type.startswith("image/"):
                raise InvalidAttachments("the avatar must be an image you uploaded")
        event = model.update_profile(command, now_ms=self.clock())
        return Published(event, await self._publish(event, command.user_id, correlation_id))

    async def _publish(self, event: Event, user_id: int, correlation_id: str | None) -> Position:
        """Append the event and remember it as the user's latest write."""
        position = await self.log.publish(event, correlation_id=correlation_id)
        await self.recent_writes.remember(user_id, position)
        return position

    def _young(self, entity_id: int) -> bool:
        return made_lately(entity_id, now_ms=self.clock(), within_ms=self.young_id_ms)

    async def _live_tweet(self, tweet_id: int) -> LiveTweet:
        tweet = await self.tweets.live_tweet(tweet_id)
        if tweet is None and self._young(tweet_id):
            # Posted moments ago: the log has it, the read model may not have applied it yet.
            # Looked up again even if the wait ran out: its own partition may have caught up.
            await self.tweets.catch_up()
            tweet = await self.tweets.live_tweet(tweet_id)
        if tweet is None:
            raise TweetNotFound(tweet_id)
        return tweet

    async def _upload(self, media_id: int) -> Upload:
        """An upload a tweet names; one uploaded moments ago is waited for (young id)."""
        found = await self.uploads.upload(media_id)
        if found is None and self._young(media_id):
            await self.uploads.catch_up()
            found = await self.uploads.upload(media_id)
        if found is None:
            raise InvalidAttachments(f"no upload with id {media_id}")
        return found

    async def _user_id_for_email(self, email: str) -> int | None:
        """As `_registered_user_id`, by email address."""
        user_id = await self.users.user_id_for_email(email)
        if user_id is None:
            claimed_by = await self.claims.holder(email_claim(email))
            if claimed_by is not None and self._young(claimed_by):
                await self.users.catch_up()
                user_id = await self.users.user_id_for_email(email)
        return user_id

    async def _registered_user_id(self, handle: str) -> int | None:
        """The id of the user registered under a handle, waiting for a registration that is
        on its way: the handle is claimed by a young id the read model does not show yet."""
        user_id = await self.users.user_id(handle)
        if user_id is None:
            claimed_by = await self.claims.holder(handle_key(handle))
            if claimed_by is not None and self._young(claimed_by):
                await self.users.catch_up()
                user_id = await self.users.user_id(handle)
        return user_id

    async def _user_id(self, handle: str) -> int:
        user_id = await self._registered_user_id(handle)
        if user_id is None:
            raise UserNotFound(handle)
        return user_id
