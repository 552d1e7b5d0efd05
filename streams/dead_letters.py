"""Routing records that cannot be decoded to the dead-letter topic.

A bad record never stops a worker: it is copied, with its headers and where it came
from, to `chirp.deadletter`, and its position is still recorded so it is not retried.
"""

from __future__ import annotations

import logging

from faust.types import EventT, TopicT

log = logging.getLogger(__name__)

HEADER_ERROR = "chirp-dead-letter-error"
HEADER_SOURCE = "chirp-dead-letter-source"


async def send_to_dead_letters(dead_letters: TopicT, event: EventT, error: Exception) -> None:
    message = event.message
    source = f"{message.topic}:{message.partition}:{message.offset}"
    log.warning("dead-lettering record %s: %s", source, error)
    headers = list(message.headers or [])
    headers += [(HEADER_ERROR, str(error).encode()), (HEADER_SOURCE, source.encode())]
    await dead_letters.send(key=message.key, value=message.value, headers=headers)
