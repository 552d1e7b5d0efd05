"""The account erasure use case: `DELETE /v1/users/me` with the account's password.

The password is confirmed first (a wrong one produces nothing). Then the account's footprint is
listed from the read models, once each has applied the whole log (so the account's last
writes, and anyone's follow of it a moment ago, are in it), `domain.erasure` decides the
take-backs, they are published and acknowledged, then the account's key for the personal fields
on the log is destroyed (crypto-shredding: its tweets' text, its names, its media references
can never be read from the log again), and only then `AccountErased`: an erasure cut short (the
process dies, Kafka refuses) leaves the account able to log in and ask again, and a second run
finds only what the first did not take back. The uploads' bytes are deleted from the
object store after `AccountErased` is acknowledged: before it, a failed erasure would leave
described media without bytes; after it, a crash leaves bytes that nothing describes or serves
(`chirp erasures` lists the media ids, so an operator can finish the job). Then the account's
OAuth access tokens are revoked (they were refused already: they name an erased account) and
its email address is released (another account may register with it).

Must never import HTTP, Redis, Kafka or a projection: only the ports.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from api.use_cases.errors import PasswordMismatch, ReadModelBehind, WrongCredentials
from api.use_cases.handlers import UseCases, email_claim, media_object_prefix
from domain.erasure import Footprint, erase_account
from domain.events import AccountErased
from schemas.log import Position
from schemas.sealing import PersonalKeys

log = logging.getLogger(__name__)


class AccountFootprints(Protocol):
    async def footprint(self, user_id: int) -> Footprint | None:
        """What the account did, listed from read models that have applied the whole log;
        None if one of them could not catch up in time."""


class AccessGrants(Protocol):
    async def revoke_all_of(self, user_id: int) -> int:
        """Revoke every access token the user granted an app; how many there were."""


@dataclass(frozen=True, slots=True)
class Erasure:
    """The `AccountErased` a request produced, and the last position it wrote in each
    partition (take-backs included): reads that wait for these show none of the account."""

    event: AccountErased
    positions: tuple[Position, ...]


def last_per_partition(positions: list[Position]) -> tuple[Position, ...]:
    last: dict[str, Position] = {}
    for position in positions:
        if position.field not in last or last[position.field].offset < position.offset:
            last[position.field] = position
    return tuple(last[field] for field in sorted(last))


@dataclass(frozen=True, slots=True)
class ErasureUseCases:
    core: UseCases  # the shared ports: users, passwords, log, clock, recent writes, media store
    footprints: AccountFootprints
    grants: AccessGrants | None = None  # the Mastodon API's OAuth tokens
    keys: PersonalKeys | None = None  # each user's key for the personal fields on the log

    async def erase_account(
        self, user_id: int, password: str, *, correlation_id: str | None = None
    ) -> Erasure:
        """Erase the caller's account: take back everything it did, then `AccountErased`."""
        core = self.core
        # An erasure asked twice at once: the second waits until the first is applied.
        await core.users.catch_up()
        stored = await core.users.password_hash(user_id)
        if stored is None:
            raise WrongCredentials  # erased meanwhile: the account is nobody now
        if not await core.passwords.verify(stored, password):
            raise PasswordMismatch
        footprint = await self.footprints.footprint(user_id)
        if footprint is None:
            raise ReadModelBehind("account")
        email = await core.users.email_of(user_id)
        *take_backs, erased = erase_account(footprint, now_ms=core.clock())
        assert isinstance(erased, AccountErased)
        # Published together (the producer batches them); each shares its partition with
        # the event it undoes, so their order among themselves does not matter.
        written = await asyncio.gather(
            *(core.log.publish(event, correlation_id=correlation_id) for event in take_backs)
        )
        if self.keys is not None:
            # Before `AccountErased`: once that is on the log, nobody could ask again.
            await asyncio.to_thread(self.keys.destroy, user_id)
        position = await core.log.publish(erased, correlation_id=correlation_id)
        await core.recent_writes.remember(user_id, position)
        for media_id in erased.media_ids:
            try:
                await core.media_store.delete_under(media_object_prefix(media_id))
            except Exception:  # the erasure stands; the log names what is left to delete
                log.exception("bytes of media %d of erased user %d not deleted", media_id, user_id)
        try:
            if self.grants is not None:
                await self.grants.revoke_all_of(user_id)
            if email is not None:
                await core.claims.release(email_claim(email))
        except Exception:  # the tokens name an erased account: every request refuses them
            log.exception("tokens or email claim of erased user %d not removed", user_id)
        return Erasure(erased, last_per_partition([*written, position]))
