"""The users read model: profiles, the handle index, and password hashes for log-in.

Keys (under `chirp:users:v{n}:`, hash-tagged): `user:{id}` hash (id, handle, display_name,
registered_at_ms), `handle:{lower handle}` -> id, `password:{id}` -> argon2 hash.
The password hash lives in its own key so that a profile read can never leak it.
`{names}:prefix` is the user search index: one sorted set, every score 0, members
`{name}\0{id}` for the lower-cased handle and each case-folded word of the display name, so
`ZRANGEBYLEX` finds the users whose handle or a display-name word starts with a prefix;
`{names}:of:{id}` (same slot) is the set of members a user was indexed under.
`{emails}:index` hash (lower-cased address -> id) finds an account by its private email
address (log-in), `{emails}:of` (id -> address) lets erasure remove it; no view reads them.
A profile's `bio` and `avatar_media_id` fields come from `ProfileUpdated`.

An erased account (`AccountErased`, after its registration on the same partition) loses its
profile, password hash and index entries, and gets `erased:{id}`: its id is refused as a
token's subject and looked up as nobody. Its handle key stays, pointing at the erased id, so
the handle is never registered again (a handle is claimed once: nobody can take over links to
an erased account).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from domain.events import AccountErased, Event, ProfileUpdated, UserRegistered
from domain.text import email_key, handle_key
from projections.base import Namespace, as_text
from projections.lua import LuaScript, ScriptArg

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

    from projections.redis_client import RedisClient


@dataclass(frozen=True, slots=True)
class UserProfile:
    user_id: int
    handle: str
    display_name: str
    registered_at_ms: int
    bio: str = ""
    avatar_media_id: int | None = None


def profile_key(keys: Namespace, user_id: int) -> str:
    return keys.of("user", user_id)


def handle_index_key(keys: Namespace, handle: str) -> str:
    return keys.of("handle", handle_key(handle))


# KEYS: prefix index, the user's indexed members (the names slot)
_FORGET_NAMES = LuaScript("projections.scripts", "user_names_forget.lua")


# KEYS: email index, addresses by id (the emails slot); ARGV: user id
_FORGET_EMAIL = LuaScript("projections.scripts", "user_email_forget.lua")
# KEYS: profile; ARGV: field, value, ...
_UPDATE_PROFILE = LuaScript("projections.scripts", "user_profile_update.lua")
# KEYS: prefix index, the user's indexed members; ARGV: the new members
_REINDEX_NAMES = LuaScript("projections.scripts", "user_names_reindex.lua")


def email_index_key(keys: Namespace) -> str:
    return keys.in_slot("emails", "index")


def emails_by_id_key(keys: Namespace) -> str:
    return keys.in_slot("emails", "of")


def name_index_key(keys: Namespace) -> str:
    return keys.in_slot("names", "prefix")


def indexed_names_key(keys: Namespace, user_id: int) -> str:
    return keys.in_slot("names", "of", user_id)


def erased_key(keys: Namespace, user_id: int) -> str:
    return keys.of("erased", user_id)


def searchable_names(handle: str, display_name: str) -> set[str]:
    """What a prefix search matches a user by: the handle and each display-name word."""
    return {handle_key(handle)} | {word.casefold() for word in display_name.split()}


def name_prefix(text: str) -> str:
    """A search prefix as the index keeps names."""
    return text.strip().casefold()


class UsersProjection:
    name: ClassVar[str] = "users"
    topic_families: ClassVar[tuple[str, ...]] = ("users",)

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        if isinstance(event, UserRegistered):
            tx.hset(
                keys.of("user", event.user_id),
                mapping={
                    "id": event.user_id,
                    "handle": event.handle,
                    "display_name": event.display_name,
                    "registered_at_ms": event.registered_at_ms,
                },
            )
            tx.set(handle_index_key(keys, event.handle), event.user_id)
            tx.set(keys.of("password", event.user_id), event.password_hash)
            names = searchable_names(event.handle, event.display_name)
            members = [f"{name}\0{event.user_id}" for name in sorted(names)]
            tx.zadd(name_index_key(keys), dict.fromkeys(members, 0))
            tx.sadd(indexed_names_key(keys, event.user_id), *members)
            if event.email:
                address = email_key(event.email)
                tx.hset(email_index_key(keys), address, event.user_id)
                tx.hset(emails_by_id_key(keys), str(event.user_id), address)
        elif isinstance(event, ProfileUpdated):
            self._update_profile(event, keys, tx)
        elif isinstance(event, AccountErased):
            tx.set(erased_key(keys, event.user_id), event.erased_at_ms)
            tx.delete(profile_key(keys, event.user_id), keys.of("password", event.user_id))
            _FORGET_NAMES.queue(
                tx, [name_index_key(keys), indexed_names_key(keys, event.user_id)], []
            )
            _FORGET_EMAIL.queue(
                tx, [email_index_key(keys), emails_by_id_key(keys)], [event.user_id]
            )

    @staticmethod
    def _update_profile(event: ProfileUpdated, keys: Namespace, tx: Pipeline) -> None:
        changed: list[ScriptArg] = []
        if event.display_name is not None:
            changed += ["display_name", event.display_name]
        if event.bio is not None:
            changed += ["bio", event.bio]
        if event.avatar_media_id is not None:
            changed += ["avatar_media_id", event.avatar_media_id]
        if changed:
            _UPDATE_PROFILE.queue(tx, [profile_key(keys, event.user_id)], changed)
        if event.display_name is not None:
            names = searchable_names(event.handle, event.display_name)
            members: list[ScriptArg] = [f"{name}\0{event.user_id}" for name in sorted(names)]
            _REINDEX_NAMES.queue(
                tx, [name_index_key(keys), indexed_names_key(keys, event.user_id)], members
            )


async def user_id_for_handle(redis: RedisClient, keys: Namespace, handle: str) -> int | None:
    """The id of the user registered under a handle; None if nobody is, or if the account was
    erased (its handle stays reserved: the handle key still names the erased id)."""
    raw = await redis.get(handle_index_key(keys, handle))
    if raw is None:
        return None
    user_id = int(raw)
    return None if await is_erased(redis, keys, user_id) else user_id


async def user_id_for_email(redis: RedisClient, keys: Namespace, email: str) -> int | None:
    """The id of the account registered with this email address (any case); None if none is
    (an erased account's address leaves the index)."""
    raw = await redis.hget(email_index_key(keys), email_key(email))
    if raw is None:
        return None
    user_id = int(raw)
    return None if await is_erased(redis, keys, user_id) else user_id


async def email_of(redis: RedisClient, keys: Namespace, user_id: int) -> str | None:
    """The address a user registered with (lower-cased), for erasure to release it."""
    raw = await redis.hget(emails_by_id_key(keys), str(user_id))
    return as_text(raw) if raw is not None else None


def profile_from_hash(raw: dict[bytes, bytes]) -> UserProfile | None:
    if not raw:
        return None
    return UserProfile(
        user_id=int(raw[b"id"]),
        handle=raw[b"handle"].decode(),
        display_name=raw[b"display_name"].decode(),
        registered_at_ms=int(raw[b"registered_at_ms"]),
        bio=raw.get(b"bio", b"").decode(),
        avatar_media_id=int(raw[b"avatar_media_id"]) if raw.get(b"avatar_media_id") else None,
    )


def queue_profile(pipe: Any, keys: Namespace, user_id: int) -> None:
    pipe.hgetall(profile_key(keys, user_id))


async def profiles(
    redis: RedisClient, keys: Namespace, user_ids: list[int]
) -> dict[int, UserProfile]:
    """Profiles by id for the ids that exist, in one round trip."""
    if not user_ids:
        return {}
    async with redis.pipeline(transaction=False) as pipe:
        for user_id in user_ids:
            pipe.hgetall(profile_key(keys, user_id))
        rows = await pipe.execute()
    found = (profile_from_hash(row) for row in rows)
    return {profile.user_id: profile for profile in found if profile is not None}


async def password_hash(redis: RedisClient, keys: Namespace, user_id: int) -> str | None:
    raw = await redis.get(keys.of("password", user_id))
    return as_text(raw) if raw is not None else None


async def users_by_name_prefix(
    redis: RedisClient, keys: Namespace, prefix: str, *, offset: int, count: int
) -> list[tuple[str, int]]:
    """(name, user id) of the index entries from `offset` whose name starts with `prefix`, in
    the names' order; a user matched by several names appears once per name."""
    start = prefix.encode()
    raw = await redis.zrangebylex(
        name_index_key(keys), b"[" + start, b"[" + start + b"\xff", start=offset, num=count
    )
    entries = []
    for member in raw:
        name, _, user_id = as_text(member).rpartition("\0")
        entries.append((name, int(user_id)))
    return entries


async def is_erased(redis: RedisClient, keys: Namespace, user_id: int) -> bool:
    return bool(await redis.exists(erased_key(keys, user_id)))


def queue_is_erased(pipe: Any, keys: Namespace, user_id: int) -> None:
    """Queues `is_erased` on a pipeline (its answer: a count, 1 when erased)."""
    pipe.exists(erased_key(keys, user_id))


def queue_user_id_for_handle(pipe: Any, keys: Namespace, handle: str) -> None:
    """Queues the id registered under a handle (bytes) or None; unlike `user_id_for_handle`
    an erased account's id is answered too."""
    pipe.get(handle_index_key(keys, handle))
