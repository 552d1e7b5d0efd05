"""Account erasure: the events the domain decides, and the use case over in-memory ports."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from api.use_cases.erasure import ErasureUseCases
from api.use_cases.errors import PasswordMismatch, ReadModelBehind
from domain.commands import RegisterUser
from domain.erasure import Footprint, OwnTweet, TweetOfOther, erase_account
from domain.events import (
    AccountErased,
    BookmarkRemoved,
    ListDeleted,
    RetweetUndone,
    TweetDeleted,
    TweetUnliked,
    UserUnfollowed,
)
from schemas.log import Position
from tests.unit.test_use_cases import NOW_MS, World

ADA = 7


def test_the_take_backs_come_first_and_the_erasure_last() -> None:
    footprint = Footprint(
        user_id=ADA,
        tweets=(OwnTweet(100, 5, reply_to=99, hashtags=("chirp",)),),
        retweeted=(TweetOfOther(200, 8),),
        liked=(TweetOfOther(300, 9), TweetOfOther(301, None)),
        following=(8, ADA),
        followers=(9, 8),
        bookmarked=(400,),
        owned_lists=(500,),
        media_ids=(601, 600, 601),
    )

    events = erase_account(footprint, now_ms=NOW_MS)

    assert events[:-1] == [
        TweetDeleted(100, ADA, NOW_MS, 5, reply_to=99, hashtags=("chirp",)),
        RetweetUndone(200, ADA, NOW_MS, tweet_author_id=8),
        TweetUnliked(300, ADA, NOW_MS, tweet_author_id=9),
        TweetUnliked(301, ADA, NOW_MS, tweet_author_id=None),
        UserUnfollowed(ADA, 8, NOW_MS),  # following yourself is no edge to undo
        UserUnfollowed(8, ADA, NOW_MS),
        UserUnfollowed(9, ADA, NOW_MS),
        BookmarkRemoved(ADA, 400, NOW_MS),
        ListDeleted(500, ADA, NOW_MS),
    ]
    assert events[-1] == AccountErased(
        user_id=ADA,
        erased_at_ms=NOW_MS,
        tweets_deleted=1,
        retweets_undone=1,
        likes_removed=2,
        follows_removed=3,
        media_removed=3,
        media_ids=(600, 601),
    )


def test_an_account_that_did_nothing_is_erased_alone() -> None:
    assert erase_account(Footprint(ADA), now_ms=NOW_MS) == [AccountErased(ADA, NOW_MS)]


@dataclass
class Footprints:
    known: dict[int, Footprint] = field(default_factory=dict)
    behind: bool = False

    async def footprint(self, user_id: int) -> Footprint | None:
        return None if self.behind else self.known.get(user_id, Footprint(user_id))


@pytest.fixture
def world() -> World:
    return World()


async def test_erasure_publishes_take_backs_then_erased_then_deletes_the_bytes(
    world: World,
) -> None:
    ada = await world.user("ada")
    world.media_store.objects |= {"600/original": b"x", "600/thumb": b"y", "700/original": b"z"}
    footprints = Footprints({ada: Footprint(ada, followers=(3,), media_ids=(600,))})
    erasures = ErasureUseCases(world.use_cases, footprints)

    erased = await erasures.erase_account(ada, "correct horse", correlation_id="c-9")

    assert world.events()[1:] == [UserUnfollowed(3, ada, NOW_MS), erased.event]
    assert erased.event.media_ids == (600,)
    assert world.journal.entries[-1] == ("delete", "600/")
    assert set(world.media_store.objects) == {"700/original"}
    assert erased.positions == (Position("chirp.test", 0, 2),)  # the last per partition


async def test_a_wrong_password_produces_nothing(world: World) -> None:
    ada = await world.user("ada")
    erasures = ErasureUseCases(world.use_cases, Footprints())

    with pytest.raises(PasswordMismatch):
        await erasures.erase_account(ada, "wrong horse")

    assert len(world.events()) == 1


async def test_read_models_that_cannot_catch_up_produce_nothing(world: World) -> None:
    ada = await world.user("ada")
    erasures = ErasureUseCases(world.use_cases, Footprints(behind=True))

    with pytest.raises(ReadModelBehind):
        await erasures.erase_account(ada, "correct horse")

    assert len(world.events()) == 1


@dataclass
class Grants:
    revoked: list[int] = field(default_factory=list)

    async def revoke_all_of(self, user_id: int) -> int:
        self.revoked.append(user_id)
        return 1


async def test_erasure_revokes_the_oauth_tokens_and_releases_the_email(world: World) -> None:
    registered = await world.use_cases.register(
        RegisterUser("ada", "correct horse", email="ada@example.org")
    )
    ada = registered.event.user_id
    assert len(world.claims.held) == 2  # the handle's claim and the email's
    grants = Grants()
    erasures = ErasureUseCases(world.use_cases, Footprints({ada: Footprint(ada)}), grants)

    await erasures.erase_account(ada, "correct horse")

    assert grants.revoked == [ada]
    assert list(world.claims.held) == ["ada"]  # the handle stays claimed, the email is free
