"""The media read model: what each upload is, for serving its bytes and attaching it.

Keys (under `chirp:media:v{n}:`):
- `media:{id}` -> the upload's description as JSON (owner, content type, size, dimensions,
  duration, alt text, variants), hash-tagged by media id.
- `erased:{id}` -> tombstone of an upload whose owner's account was erased (same slot): the
  description never comes back, in whatever order the media and users topics are applied.
- `uploads:{owner}` -> sorted set of the owner's media ids (score 0), hash-tagged by owner: what
  an account erasure lists; `owner_erased:{owner}` (same slot) keeps an erased owner's list
  from coming back.
The bytes themselves live in the object store under `{media id}/{variant}`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from domain.events import AccountErased, Event, MediaUploaded
from domain.ids import sortable_id
from projections.base import Namespace
from projections.lua import LuaScript

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

    from projections.redis_client import RedisClient


# KEYS: media, erased (the upload's slot)  ARGV: description json
_DESCRIBE = LuaScript("projections.scripts", "media_describe.lua")
# KEYS: uploads, owner_erased (the owner's slot)  ARGV: media id member
_INDEX = LuaScript("projections.scripts", "media_index.lua")


def media_key(keys: Namespace, media_id: int) -> str:
    return keys.of("media", media_id)


def uploads_key(keys: Namespace, owner_id: int) -> str:
    return keys.of("uploads", owner_id)


class MediaProjection:
    name: ClassVar[str] = "media"
    topic_families: ClassVar[tuple[str, ...]] = ("media", "users")

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        match event:
            case MediaUploaded():
                _DESCRIBE.queue(
                    tx,
                    [media_key(keys, event.media_id), keys.of("erased", event.media_id)],
                    [orjson.dumps(asdict(event))],
                )
                _INDEX.queue(
                    tx,
                    [uploads_key(keys, event.owner_id), keys.of("owner_erased", event.owner_id)],
                    [sortable_id(event.media_id)],
                )
            case AccountErased():
                for media_id in event.media_ids:
                    tx.set(keys.of("erased", media_id), 1)
                    tx.delete(media_key(keys, media_id))
                tx.set(keys.of("owner_erased", event.user_id), 1)
                tx.delete(uploads_key(keys, event.user_id))


async def media_description(
    redis: RedisClient, keys: Namespace, media_id: int
) -> dict[str, Any] | None:
    """The upload as its `MediaUploaded` event described it, or None if there is none."""
    raw = await redis.get(media_key(keys, media_id))
    if raw is None:
        return None
    described: dict[str, Any] = orjson.loads(raw)
    return described


async def media_descriptions(
    redis: RedisClient, keys: Namespace, media_ids: list[int]
) -> dict[int, dict[str, Any]]:
    """The descriptions of several uploads (those that exist), in one pipeline."""
    async with redis.pipeline(transaction=False) as pipe:
        for media_id in media_ids:
            pipe.get(media_key(keys, media_id))
        rows = await pipe.execute()
    return {
        media_id: orjson.loads(raw)
        for media_id, raw in zip(media_ids, rows, strict=True)
        if raw is not None
    }


async def uploads_of(redis: RedisClient, keys: Namespace, owner_id: int) -> list[int]:
    """Every media id the owner uploaded (an erasure removes them)."""
    members = await redis.zrangebylex(uploads_key(keys, owner_id), "-", "+")
    return [int(member) for member in members]
