"""The write use cases against in-memory ports: the rules between HTTP and the domain."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from api.auth import Caller
from api.media_processing import InvalidMedia, ProcessedMedia, Rendition, UnsupportedMedia
from api.problems import REFUSALS
from api.use_cases.errors import (
    EmailTaken,
    HandleTaken,
    ListNotFound,
    MediaNotAccepted,
    MediaUnusable,
    PasswordMismatch,
    ReadModelBehind,
    Refused,
    TweetNotFound,
    UserNotFound,
    WrongCredentials,
)
from api.use_cases.handlers import UseCases, media_object_key
from api.use_cases.ports import Account, LiveTweet, Upload
from domain.commands import PostTweet, RegisterUser
from domain.errors import (
    CannotFollowSelf,
    InvalidAttachments,
    InvalidEmail,
    InvalidHandle,
    InvalidReadMarker,
    InvalidTweetText,
    NotTheAuthor,
)
from domain.events import (
    EVENT_TYPES,
    Event,
    NotificationsRead,
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
from domain.ids import EPOCH_MS, TIMESTAMP_SHIFT
from domain.text import handle_key
from schemas.log import Position

NOW_MS = 1_700_000_000_000
YOUNG_ID_MS = 10_000
OLD_TWEET_ID = 424242  # made in January 2020, long before NOW_MS


class BrokerDown(Exception):
    pass


@dataclass
class ReadModels:
    """Tweets, users and the follow graph in memory. The log applies each event at once,
    unless `lagging`: then events wait in `unapplied` until a lookup catches up (which, when
    `stuck`, runs out of time instead)."""

    lagging: bool = False
    stuck: bool = False
    unapplied: list[Event] = field(default_factory=list)
    catch_ups: int = 0
    tweets: dict[int, LiveTweet] = field(default_factory=dict)
    retweets: dict[tuple[int, int], int] = field(default_factory=dict)
    handles: dict[str, int] = field(default_factory=dict)
    emails: dict[str, int] = field(default_factory=dict)
    accounts: dict[int, Account] = field(default_factory=dict)
    password_hashes: dict[int, str] = field(default_factory=dict)
    edges: set[tuple[int, int]] = field(default_factory=set)

    def receive(self, event: Event) -> None:
        if self.lagging:
            self.unapplied.append(event)
        else:
            self.apply(event)

    async def catch_up(self) -> None:
        self.catch_ups += 1
        await self.caught_up()

    async def caught_up(self) -> bool:
        if not self.stuck:
            for event in self.unapplied:
                self.apply(event)
            self.unapplied.clear()
        return not self.stuck

    def apply(self, event: Event) -> None:
        match event:
            case UserRegistered():
                self.handles[handle_key(event.handle)] = event.user_id
                self.accounts[event.user_id] = Account(
                    event.user_id, event.handle, event.display_name
                )
                self.password_hashes[event.user_id] = event.password_hash
                if event.email:
                    self.emails[event.email.lower()] = event.user_id
            case TweetPosted():
                self.tweets[event.tweet_id] = LiveTweet(
                    event.tweet_id,
                    event.author_id,
                    event.created_at_ms,
                    event.reply_to,
                    event.hashtags,
                )
            case TweetDeleted():
                del self.tweets[event.tweet_id]
            case TweetRetweeted():
                self.retweets[event.tweet_id, event.user_id] = event.retweet_id
            case RetweetUndone():
                self.retweets.pop((event.tweet_id, event.user_id), None)
            case UserFollowed():
                self.edges.add((event.follower_id, event.followee_id))
            case UserUnfollowed():
                self.edges.discard((event.follower_id, event.followee_id))

    # TweetLookup
    async def live_tweet(self, tweet_id: int) -> LiveTweet | None:
        return self.tweets.get(tweet_id)

    async def retweet_by(self, tweet_id: int, user_id: int) -> int | None:
        return self.retweets.get((tweet_id, user_id))

    # UserLookup
    async def user_id(self, handle: str) -> int | None:
        return self.handles.get(handle_key(handle))

    async def user_id_for_email(self, email: str) -> int | None:
        return self.emails.get(email.lower())

    async def email_of(self, user_id: int) -> str | None:
        return next((email for email, id_ in self.emails.items() if id_ == user_id), None)

    async def account(self, user_id: int) -> Account | None:
        return self.accounts.get(user_id)

    async def password_hash(self, user_id: int) -> str | None:
        return self.password_hashes.get(user_id)

    # FollowGraph
    async def is_following(self, follower_id: int, followee_id: int) -> bool:
        return (follower_id, followee_id) in self.edges


@dataclass
class Journal:
    """What the use cases did to the outside world, in order."""

    entries: list[tuple[str, object]] = field(default_factory=list)

    def events(self) -> list[Event]:
        return [entry for _, entry in self.entries if isinstance(entry, EVENT_TYPES)]


@dataclass
class Log:
    journal: Journal
    read_models: ReadModels
    failure: Exception | None = None

    async def publish(self, event: Event, *, correlation_id: str | None) -> Position:
        if self.failure is not None:
            raise self.failure
        self.journal.entries.append(("publish", event))
        self.read_models.receive(event)
        return Position("chirp.test", 0, len(self.journal.events()) - 1)


@dataclass
class Claims:
    held: dict[str, int] = field(default_factory=dict)

    async def claim(self, handle_key: str, user_id: int) -> bool:
        if handle_key in self.held:
            return False
        self.held[handle_key] = user_id
        return True

    async def release(self, handle_key: str) -> None:
        del self.held[handle_key]

    async def holder(self, handle_key: str) -> int | None:
        return self.held.get(handle_key)


@dataclass
class RecentWrites:
    remembered: list[tuple[int, Position]] = field(default_factory=list)

    async def remember(self, user_id: int, position: Position) -> None:
        self.remembered.append((user_id, position))


@dataclass
class Holds:
    journal: Journal

    async def hold(self, follower_id: int, followee_id: int) -> None:
        self.journal.entries.append(("hold", (follower_id, followee_id)))


@dataclass
class Ids:
    """Ids made at NOW_MS, as the API's generator would make them."""

    last: int = (NOW_MS - EPOCH_MS) << TIMESTAMP_SHIFT

    def next_id(self) -> int:
        self.last += 1
        return self.last


class Passwords:
    async def hash(self, password: str) -> str:
        return f"hashed:{password}"

    async def verify(self, stored_hash: str, password: str) -> bool:
        return stored_hash == f"hashed:{password}"


class Tokens:
    ttl_s = 3600

    def issue(self, caller: Caller) -> str:
        return f"token:{caller.user_id}:{caller.handle}:{caller.display_name}"


@dataclass
class MediaStore:
    journal: Journal
    objects: dict[str, bytes] = field(default_factory=dict)
    failure: Exception | None = None

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        if self.failure is not None:
            raise self.failure
        self.objects[key] = data
        self.journal.entries.append(("store", key))

    async def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    async def delete_under(self, prefix: str) -> None:
        for key in [key for key in self.objects if key.startswith(prefix)]:
            del self.objects[key]
        self.journal.entries.append(("delete", prefix))


PHOTO = ProcessedMedia(
    "image/jpeg",
    640,
    480,
    (
        Rendition("original", "image/jpeg", 640, 480, b"upright jpeg"),
        Rendition("thumb", "image/jpeg", 150, 112, b"thumb"),
    ),
)


@dataclass
class Inspector:
    """Says what bytes are: a photo, or a refusal named by the bytes themselves."""

    async def inspect(self, data: bytes) -> ProcessedMedia:
        if data == b"plain text":
            raise UnsupportedMedia("text/plain is not a supported image or video type")
        if data == b"bomb":
            raise InvalidMedia("refused as a decompression bomb")
        return PHOTO


@dataclass
class Uploads:
    known: dict[int, Upload] = field(default_factory=dict)

    async def upload(self, media_id: int) -> Upload | None:
        return self.known.get(media_id)

    async def catch_up(self) -> None:
        return None


@dataclass
class World:
    read_models: ReadModels = field(default_factory=ReadModels)
    journal: Journal = field(default_factory=Journal)
    claims: Claims = field(default_factory=Claims)
    ids: Ids = field(default_factory=Ids)
    recent_writes: RecentWrites = field(default_factory=RecentWrites)
    uploads: Uploads = field(default_factory=Uploads)

    def __post_init__(self) -> None:
        self.log = Log(self.journal, self.read_models)
        self.media_store = MediaStore(self.journal)
        self.use_cases = UseCases(
            tweets=self.read_models,
            users=self.read_models,
            graph=self.read_models,
            claims=self.claims,
            holds=Holds(self.journal),
            log=self.log,
            ids=self.ids,
            passwords=Passwords(),
            tokens=Tokens(),
            clock=lambda: NOW_MS,
            recent_writes=self.recent_writes,
            young_id_ms=YOUNG_ID_MS,
            media_store=self.media_store,
            media=Inspector(),
            uploads=self.uploads,
        )

    def events(self) -> list[Event]:
        return self.journal.events()

    async def user(self, handle: str) -> int:
        registered = await self.use_cases.register(RegisterUser(handle, "correct horse"))
        return registered.event.user_id

    async def tweet(self, author_id: int, text: str = "hello #chirp") -> int:
        posted = await self.use_cases.post_tweet(PostTweet(author_id=author_id, text=text))
        return posted.event.tweet_id


@pytest.fixture
def world() -> World:
    return World()


async def test_registering_claims_the_handle_and_publishes_the_account(world: World) -> None:
    registered = await world.use_cases.register(
        RegisterUser("Ada", "correct horse"), correlation_id="c-1"
    )

    event = registered.event
    assert world.events() == [event]
    assert registered.position == Position("chirp.test", 0, 0)
    assert (event.handle, event.display_name) == ("Ada", "Ada")
    assert event.password_hash == "hashed:correct horse"
    assert event.registered_at_ms == NOW_MS
    assert world.claims.held == {"ada": event.user_id}


async def test_a_handle_is_taken_whatever_its_case(world: World) -> None:
    await world.user("ada")

    with pytest.raises(HandleTaken):
        await world.use_cases.register(RegisterUser("ADA", "another password"))

    assert len(world.events()) == 1
    assert list(world.claims.held) == ["ada"]


async def test_a_registered_handle_without_a_claim_is_taken_and_not_left_claimed(
    world: World,
) -> None:
    await world.user("ada")
    world.claims.held.clear()  # e.g. claims lost while the read model kept the account

    with pytest.raises(HandleTaken):
        await world.use_cases.register(RegisterUser("ada", "another password"))

    assert len(world.events()) == 1
    assert world.claims.held == {}


async def test_a_handle_whose_claim_redis_lost_is_taken_once_the_read_model_has_the_log(
    world: World,
) -> None:
    world.read_models.lagging = True  # e.g. rebuilding after Redis was wiped
    await world.user("ada")
    world.claims.held.clear()

    with pytest.raises(HandleTaken):
        await world.use_cases.register(RegisterUser("ada", "another password"))

    assert len(world.events()) == 1
    assert world.claims.held == {}


async def test_a_registration_is_refused_while_the_read_model_cannot_catch_up(
    world: World,
) -> None:
    world.read_models.lagging = world.read_models.stuck = True

    with pytest.raises(ReadModelBehind):
        await world.use_cases.register(RegisterUser("ada", "correct horse"))

    assert world.events() == []
    assert world.claims.held == {}


async def test_the_claim_is_released_when_publishing_fails(world: World) -> None:
    world.log.failure = BrokerDown("no leader")

    with pytest.raises(BrokerDown):
        await world.use_cases.register(RegisterUser("ada", "correct horse"))

    assert world.claims.held == {}
    assert world.events() == []
    world.log.failure = None
    registered = await world.use_cases.register(RegisterUser("ada", "correct horse"))
    assert world.events() == [registered.event]


async def test_an_invalid_handle_is_refused_before_anything_is_claimed(world: World) -> None:
    with pytest.raises(InvalidHandle):
        await world.use_cases.register(RegisterUser("has space", "correct horse"))

    assert world.claims.held == {}
    assert world.events() == []


async def test_logging_in_issues_a_token_for_the_account(world: World) -> None:
    await world.use_cases.register(RegisterUser("ada", "correct horse", "Ada L."))

    session = await world.use_cases.log_in("ADA", "correct horse")

    user_id = await world.read_models.user_id("ada")
    assert session.access_token == f"token:{user_id}:ada:Ada L."
    assert session.expires_in_s == 3600


async def test_an_account_registered_with_an_email_logs_in_with_it_in_any_case(
    world: World,
) -> None:
    registered = await world.use_cases.register(
        RegisterUser("ada", "correct horse", email="Ada@Example.org")
    )

    caller = await world.use_cases.authenticate("ada@EXAMPLE.org", "correct horse")

    assert registered.event.email == "Ada@Example.org"
    assert caller.user_id == registered.event.user_id
    with pytest.raises(WrongCredentials):
        await world.use_cases.authenticate("ada@example.org", "wrong horse")


async def test_an_email_is_one_accounts_and_a_refusal_leaves_nothing_claimed(
    world: World,
) -> None:
    await world.use_cases.register(RegisterUser("ada", "correct horse", email="ada@example.org"))
    held = dict(world.claims.held)

    with pytest.raises(EmailTaken):
        await world.use_cases.register(
            RegisterUser("bob", "correct horse", email="ADA@example.org")
        )
    with pytest.raises(InvalidEmail):
        await world.use_cases.register(RegisterUser("bob", "correct horse", email="not-an-email"))

    assert len(world.events()) == 1
    assert world.claims.held == held
    assert all("example" not in claim for claim in held)  # a claim names no address


@pytest.mark.parametrize(("handle", "password"), [("ada", "wrong horse"), ("bob", "correct horse")])
async def test_a_wrong_password_or_unknown_handle_gets_no_token(
    world: World, handle: str, password: str
) -> None:
    await world.user("ada")

    with pytest.raises(WrongCredentials):
        await world.use_cases.log_in(handle, password)


async def test_posting_publishes_the_tweet(world: World) -> None:
    ada = await world.user("ada")

    posted = await world.use_cases.post_tweet(PostTweet(author_id=ada, text="hi #Chirp"))

    assert world.events()[-1] == posted.event
    assert posted.event.author_id == ada and posted.event.hashtags == ("chirp",)
    assert posted.event.created_at_ms == NOW_MS
    assert posted.event.tweet_id == world.ids.last


async def test_a_reply_to_a_live_tweet_names_it(world: World) -> None:
    ada = await world.user("ada")
    parent = await world.tweet(ada)

    posted = await world.use_cases.post_tweet(
        PostTweet(author_id=ada, text="me too", reply_to=parent, quote_of=parent)
    )

    assert (posted.event.reply_to, posted.event.quote_of) == (parent, parent)


async def test_a_tweet_names_whom_it_addresses_for_notifications(world: World) -> None:
    ada, bob, cy = await world.user("ada"), await world.user("bob"), await world.user("cy")
    parent, quoted = await world.tweet(ada), await world.tweet(bob)

    posted = await world.use_cases.post_tweet(
        PostTweet(author_id=cy, text="@BOB @nobody @cy @bob hi", reply_to=parent, quote_of=quoted)
    )

    assert posted.event.reply_to_author_id == ada
    assert posted.event.quote_of_author_id == bob
    # Handles naming nobody are left out; the author's own mention is a fact like any other.
    assert posted.event.mentioned_user_ids == (bob, cy)


async def test_undoing_a_retweet_names_the_tweet_author(world: World) -> None:
    ada, bob = await world.user("ada"), await world.user("bob")
    tweet = await world.tweet(ada)
    await world.use_cases.retweet(tweet, bob)

    await world.use_cases.undo_retweet(tweet, bob)

    assert world.events()[-1] == RetweetUndone(
        tweet_id=tweet, user_id=bob, undone_at_ms=NOW_MS, tweet_author_id=ada
    )


async def test_marking_notifications_read_is_published_for_the_user(world: World) -> None:
    ada = await world.user("ada")

    await world.use_cases.mark_notifications_read(ada, NOW_MS - 5)

    assert world.events()[-1] == NotificationsRead(
        user_id=ada, last_seen_at_ms=NOW_MS - 5, read_at_ms=NOW_MS
    )


@pytest.mark.parametrize("up_to", [-1, NOW_MS + 3_600_000])
async def test_a_read_marker_before_1970_or_in_the_future_is_refused(
    world: World, up_to: int
) -> None:
    ada = await world.user("ada")

    with pytest.raises(InvalidReadMarker):
        await world.use_cases.mark_notifications_read(ada, up_to)

    assert len(world.events()) == 1


@pytest.mark.parametrize("field_name", ["reply_to", "quote_of"])
async def test_a_reply_or_quote_of_a_missing_or_deleted_tweet_is_refused(
    world: World, field_name: str
) -> None:
    ada = await world.user("ada")
    deleted = await world.tweet(ada)
    await world.use_cases.delete_tweet(deleted, ada)
    published = len(world.events())

    for missing in (OLD_TWEET_ID, deleted):
        command = PostTweet(author_id=ada, text="hello", **{field_name: missing})
        with pytest.raises(TweetNotFound):
            await world.use_cases.post_tweet(command)

    assert len(world.events()) == published


async def test_bad_text_is_refused_by_the_domain(world: World) -> None:
    ada = await world.user("ada")

    with pytest.raises(InvalidTweetText):
        await world.use_cases.post_tweet(PostTweet(author_id=ada, text="   "))

    assert len(world.events()) == 1


async def test_the_author_deletes_a_tweet_as_it_was_posted(world: World) -> None:
    ada = await world.user("ada")
    parent = await world.tweet(ada)
    reply = await world.use_cases.post_tweet(
        PostTweet(author_id=ada, text="more #chirp #news", reply_to=parent)
    )

    await world.use_cases.delete_tweet(reply.event.tweet_id, ada)

    assert world.events()[-1] == TweetDeleted(
        tweet_id=reply.event.tweet_id,
        author_id=ada,
        deleted_at_ms=NOW_MS,
        created_at_ms=reply.event.created_at_ms,
        reply_to=parent,
        hashtags=("chirp", "news"),
    )


async def test_only_the_author_may_delete(world: World) -> None:
    ada, bob = await world.user("ada"), await world.user("bob")
    tweet = await world.tweet(ada)
    published = len(world.events())

    with pytest.raises(NotTheAuthor):
        await world.use_cases.delete_tweet(tweet, bob)

    assert len(world.events()) == published
    assert await world.read_models.live_tweet(tweet) is not None


@pytest.mark.parametrize("action", ["delete_tweet", "like", "unlike", "retweet", "undo_retweet"])
async def test_acting_on_a_missing_tweet_is_refused(world: World, action: str) -> None:
    ada = await world.user("ada")

    with pytest.raises(TweetNotFound):
        await getattr(world.use_cases, action)(OLD_TWEET_ID, ada)

    assert len(world.events()) == 1


async def test_likes_and_unlikes_are_published(world: World) -> None:
    ada, bob = await world.user("ada"), await world.user("bob")
    tweet = await world.tweet(ada)

    liked = await world.use_cases.like(tweet, bob)
    unliked = await world.use_cases.unlike(tweet, bob)

    assert world.events()[-2:] == [
        TweetLiked(tweet_id=tweet, user_id=bob, liked_at_ms=NOW_MS, tweet_author_id=ada),
        TweetUnliked(tweet_id=tweet, user_id=bob, unliked_at_ms=NOW_MS, tweet_author_id=ada),
    ]
    assert unliked.offset == liked.offset + 1


async def test_retweeting_twice_produces_one_event(world: World) -> None:
    ada, bob = await world.user("ada"), await world.user("bob")
    tweet = await world.tweet(ada)

    first = await world.use_cases.retweet(tweet, bob)
    second = await world.use_cases.retweet(tweet, bob)

    retweets = [event for event in world.events() if isinstance(event, TweetRetweeted)]
    assert first is not None and second is None
    assert retweets == [
        TweetRetweeted(
            retweet_id=world.ids.last,
            tweet_id=tweet,
            user_id=bob,
            retweeted_at_ms=NOW_MS,
            tweet_author_id=ada,
        )
    ]


async def test_a_retweet_undone_can_be_made_again(world: World) -> None:
    ada, bob = await world.user("ada"), await world.user("bob")
    tweet = await world.tweet(ada)
    await world.use_cases.retweet(tweet, bob)

    await world.use_cases.undo_retweet(tweet, bob)
    again = await world.use_cases.retweet(tweet, bob)

    assert again is not None
    kinds = [type(event) for event in world.events()[-3:]]
    assert kinds == [TweetRetweeted, RetweetUndone, TweetRetweeted]


async def test_a_follow_holds_the_home_timeline_before_it_is_published(world: World) -> None:
    ada, bob = await world.user("ada"), await world.user("bob")

    position = await world.use_cases.follow(ada, "BOB", correlation_id="c-2")

    assert position is not None
    assert world.journal.entries[-2:] == [
        ("hold", (ada, bob)),
        ("publish", UserFollowed(follower_id=ada, followee_id=bob, followed_at_ms=NOW_MS)),
    ]


async def test_following_twice_produces_nothing(world: World) -> None:
    ada = await world.user("ada")
    await world.user("bob")
    await world.use_cases.follow(ada, "bob")
    before = list(world.journal.entries)

    assert await world.use_cases.follow(ada, "bob") is None
    assert world.journal.entries == before


async def test_unfollowing_holds_then_publishes_and_a_second_time_produces_nothing(
    world: World,
) -> None:
    ada, bob = await world.user("ada"), await world.user("bob")
    await world.use_cases.follow(ada, "bob")

    assert await world.use_cases.unfollow(ada, "bob") is not None
    after_first = list(world.journal.entries)
    assert await world.use_cases.unfollow(ada, "bob") is None

    assert after_first[-2:] == [
        ("hold", (ada, bob)),
        ("publish", UserUnfollowed(follower_id=ada, followee_id=bob, unfollowed_at_ms=NOW_MS)),
    ]
    assert world.journal.entries == after_first


@pytest.mark.parametrize("action", ["follow", "unfollow"])
async def test_following_an_unknown_handle_is_refused(world: World, action: str) -> None:
    ada = await world.user("ada")

    with pytest.raises(UserNotFound):
        await getattr(world.use_cases, action)(ada, "nobody")

    assert len(world.journal.entries) == 1


@pytest.mark.parametrize("action", ["follow", "unfollow"])
async def test_following_yourself_is_refused_by_the_domain(world: World, action: str) -> None:
    ada = await world.user("ada")

    with pytest.raises(CannotFollowSelf):
        await getattr(world.use_cases, action)(ada, "ada")

    assert len(world.journal.entries) == 1


def test_every_refusal_has_a_problem_status() -> None:
    refusals = set(Refused.__subclasses__())
    assert refusals == {
        TweetNotFound,
        UserNotFound,
        HandleTaken,
        EmailTaken,
        WrongCredentials,
        ReadModelBehind,
        MediaNotAccepted,
        MediaUnusable,
        ListNotFound,
        PasswordMismatch,
    }
    assert set(REFUSALS) == refusals


async def test_every_write_is_remembered_for_the_user_who_made_it(world: World) -> None:
    ada, bob = await world.user("ada"), await world.user("bob")
    tweet = await world.tweet(ada)
    liked = await world.use_cases.like(tweet, bob)
    followed = await world.use_cases.follow(bob, "ada")
    deleted = await world.use_cases.delete_tweet(tweet, ada)

    writers = [user_id for user_id, _ in world.recent_writes.remembered]
    assert writers == [ada, bob, ada, bob, bob, ada]
    assert world.recent_writes.remembered[-3:] == [(bob, liked), (bob, followed), (ada, deleted)]


async def test_a_registration_that_fails_to_publish_is_not_remembered(world: World) -> None:
    world.log.failure = BrokerDown("no leader")

    with pytest.raises(BrokerDown):
        await world.use_cases.register(RegisterUser("ada", "correct horse"))

    assert world.recent_writes.remembered == []


@pytest.mark.parametrize("field_name", ["reply_to", "quote_of"])
async def test_a_reply_or_quote_of_a_tweet_not_yet_applied_waits_for_it(
    world: World, field_name: str
) -> None:
    ada, bob = await world.user("ada"), await world.user("bob")
    world.read_models.lagging = True
    parent = await world.tweet(ada)

    posted = await world.use_cases.post_tweet(
        PostTweet(author_id=bob, text="so true", **{field_name: parent})
    )

    assert getattr(posted.event, field_name) == parent
    assert world.read_models.catch_ups == 1


@pytest.mark.parametrize("action", ["like", "retweet", "undo_retweet", "unlike"])
async def test_acting_on_a_tweet_not_yet_applied_waits_for_it(world: World, action: str) -> None:
    ada, bob = await world.user("ada"), await world.user("bob")
    world.read_models.lagging = True
    tweet = await world.tweet(ada)

    assert await getattr(world.use_cases, action)(tweet, bob) is not None
    assert world.read_models.catch_ups == 1


async def test_the_author_deletes_a_tweet_not_yet_applied(world: World) -> None:
    ada = await world.user("ada")
    world.read_models.lagging = True
    tweet = await world.tweet(ada)

    await world.use_cases.delete_tweet(tweet, ada)

    assert isinstance(world.events()[-1], TweetDeleted)


async def test_an_old_missing_tweet_is_refused_without_waiting(world: World) -> None:
    ada = await world.user("ada")

    with pytest.raises(TweetNotFound):
        await world.use_cases.post_tweet(PostTweet(author_id=ada, text="hi", reply_to=OLD_TWEET_ID))
    with pytest.raises(TweetNotFound):
        await world.use_cases.like(OLD_TWEET_ID, ada)

    assert world.read_models.catch_ups == 0


async def test_a_young_id_that_names_nothing_is_refused_after_one_wait(world: World) -> None:
    ada = await world.user("ada")
    never_posted = world.ids.next_id()

    with pytest.raises(TweetNotFound):
        await world.use_cases.like(never_posted, ada)

    assert world.read_models.catch_ups == 1
    assert len(world.events()) == 1


async def test_a_young_tweet_is_refused_when_the_wait_runs_out(world: World) -> None:
    ada, bob = await world.user("ada"), await world.user("bob")
    world.read_models.lagging = world.read_models.stuck = True
    tweet = await world.tweet(ada)

    with pytest.raises(TweetNotFound):
        await world.use_cases.like(tweet, bob)

    assert world.read_models.catch_ups == 1


async def test_logging_in_right_after_registering_waits_for_the_registration(
    world: World,
) -> None:
    world.read_models.lagging = True
    registered = await world.use_cases.register(RegisterUser("ada", "correct horse", "Ada"))

    session = await world.use_cases.log_in("Ada", "correct horse")

    assert session.access_token == f"token:{registered.event.user_id}:ada:Ada"
    assert world.read_models.catch_ups == 1


async def test_a_handle_nobody_claimed_is_refused_without_waiting(world: World) -> None:
    with pytest.raises(WrongCredentials):
        await world.use_cases.log_in("nobody", "correct horse")
    assert world.read_models.catch_ups == 0


async def test_a_claim_left_long_ago_by_a_failed_registration_is_not_waited_for(
    world: World,
) -> None:
    ada = await world.user("ada")
    world.claims.held["ghost"] = 1  # an id made in January 2020 whose account never came

    with pytest.raises(WrongCredentials):
        await world.use_cases.log_in("ghost", "correct horse")
    with pytest.raises(UserNotFound):
        await world.use_cases.follow(ada, "ghost")

    assert world.read_models.catch_ups == 0


async def test_following_a_user_registered_a_moment_ago_waits_for_the_registration(
    world: World,
) -> None:
    ada = await world.user("ada")
    world.read_models.lagging = True
    carl = await world.user("carl")

    position = await world.use_cases.follow(ada, "CARL")

    assert position is not None
    assert world.events()[-1] == UserFollowed(
        follower_id=ada, followee_id=carl, followed_at_ms=NOW_MS
    )
    assert world.read_models.catch_ups == 1


async def test_an_upload_stores_every_rendition_before_its_event_is_published(
    world: World,
) -> None:
    uploaded = await world.use_cases.upload_media(7, b"some jpeg", "a cat, asleep")

    event = uploaded.event
    assert (event.owner_id, event.content_type, event.width, event.height) == (
        7,
        "image/jpeg",
        640,
        480,
    )
    assert event.bytes == len(b"upright jpeg")
    assert [(v.name, v.bytes) for v in event.variants] == [("original", 12), ("thumb", 5)]
    assert event.alt_text == "a cat, asleep"
    kinds = [kind for kind, _ in world.journal.entries]
    assert kinds == ["store", "store", "publish"]
    assert world.media_store.objects == {
        media_object_key(event.media_id, "original"): b"upright jpeg",
        media_object_key(event.media_id, "thumb"): b"thumb",
    }
    assert world.recent_writes.remembered == [(7, uploaded.position)]


@pytest.mark.parametrize(
    ("data", "refusal"), [(b"plain text", MediaNotAccepted), (b"bomb", MediaUnusable)]
)
async def test_a_refused_upload_stores_and_publishes_nothing(
    world: World, data: bytes, refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        await world.use_cases.upload_media(7, data)
    assert world.journal.entries == []
    assert world.media_store.objects == {}


async def test_an_upload_whose_bytes_cannot_be_stored_publishes_nothing(world: World) -> None:
    world.media_store.failure = OSError("disk full")
    with pytest.raises(OSError, match="disk full"):
        await world.use_cases.upload_media(7, b"some jpeg")
    assert world.journal.events() == []


def old_media_id(n: int) -> int:
    """An upload id made long before NOW_MS (no wait for it)."""
    return 1000 + n


@pytest.mark.parametrize(
    ("uploads", "allowed"),
    [
        ([("image/png", "self")] * 4, True),
        ([("video/mp4", "self")], True),
        ([("image/png", "self")] * 5, False),
        ([("video/mp4", "self"), ("image/png", "self")], False),
        ([("image/png", "someone else")], False),
    ],
    ids=["four-images", "one-video", "five-images", "video-and-image", "not-yours"],
)
async def test_a_tweet_carries_up_to_four_images_or_one_video_of_its_author(
    world: World, uploads: list[tuple[str, str]], allowed: bool
) -> None:
    ada = await world.user("ada")
    ids = []
    for n, (content_type, whose) in enumerate(uploads):
        owner = ada if whose == "self" else ada + 1
        world.uploads.known[old_media_id(n)] = Upload(old_media_id(n), owner, content_type)
        ids.append(old_media_id(n))
    command = PostTweet(author_id=ada, text="look", media_ids=tuple(ids))
    if allowed:
        posted = await world.use_cases.post_tweet(command)
        assert posted.event.media_ids == tuple(ids)
    else:
        with pytest.raises(InvalidAttachments):
            await world.use_cases.post_tweet(command)
        assert not any(isinstance(e, TweetPosted) for e in world.journal.events())


async def test_an_unknown_upload_cannot_be_attached(world: World) -> None:
    ada = await world.user("ada")
    with pytest.raises(InvalidAttachments, match="no upload"):
        await world.use_cases.post_tweet(
            PostTweet(author_id=ada, text="look", media_ids=(old_media_id(9),))
        )
