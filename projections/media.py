"""The media read model: what each upload is, for serving its bytes and attaching it.

Keys (under `chirp:media:v{n}:`, hash-tagged by media id): `media:{id}` -> the upload's
description as JSON (owner, content type, size, dimensions, duration, alt text, variants).
The bytes themselves live in the object store under `{media id}/{variant}`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from domain.events import Event, MediaUploaded
from projections.base import Namespace

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

    from projections.redis_client import RedisClient


def media_key(keys: Namespace, media_id: int) -> str:
    return keys.of("media", media_id)


class MediaProjection:
    name: ClassVar[str] = "media"
    topic_families: ClassVar[tuple[str, ...]] = ("media",)

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        if isinstance(event, MediaUploaded):
            tx.set(media_key(keys, event.media_id), orjson.dumps(asdict(event)))


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
