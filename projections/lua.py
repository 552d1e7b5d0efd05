"""Server-side scripts for projection changes that need a read before the write.

Queued on a transaction pipeline by SHA; the pipeline loads any script Redis does not know
before sending MULTI, so a Redis restart never makes a queued EVALSHA fail mid-transaction.
Scripts build key names from the namespace prefixes they are given: one Redis, not Cluster.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from redis.exceptions import NoScriptError

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

ScriptArg = str | int | bytes


class LuaScript:
    """One script; `sha` and `script` are the attributes redis-py's pipeline loader uses."""

    def __init__(self, source: str) -> None:
        self.script = source.encode()
        self.sha = hashlib.sha1(self.script).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1

    def queue(self, tx: Pipeline, keys: list[str], args: list[ScriptArg]) -> None:
        tx.scripts.add(self)  # type: ignore[arg-type]
        tx.evalsha(self.sha, len(keys), *keys, *args)

    async def run(self, redis: Redis, keys: list[str], args: list[ScriptArg]) -> Any:
        """Run now (outside a transaction), loading the script if Redis does not have it."""
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await redis.script_load(self.script)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)


ScriptCall = tuple[LuaScript, list[str], list[ScriptArg]]
