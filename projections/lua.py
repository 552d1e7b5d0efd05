"""Server-side scripts of the projections, loaded from `.lua` files like the `.avsc` schemas.

Every script declares the keys it touches in KEYS, all in one hash slot, so it runs on Redis
Cluster as on a single Redis. Scripts are sent by SHA (`EVALSHA`); a Redis that does not know
one (restarted, flushed, a new cluster node) answers NOSCRIPT, and the caller loads every
script on every node (`load_scripts`) and retries: all projection writes are idempotent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from importlib import resources
from typing import Any

from redis.exceptions import NoScriptError

ScriptArg = str | int | bytes
AnyRedis = "Redis | RedisCluster"
AnyPipeline = "Pipeline | ClusterPipeline"

_LOADED: list[LuaScript] = []


class LuaScript:
    """One script, named by its file; `sha` is what Redis knows it by."""

    def __init__(self, package: str, file_name: str) -> None:
        self.name = file_name
        self.script = resources.files(package).joinpath(file_name).read_bytes()
        self.sha = hashlib.sha1(self.script).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1
        _LOADED.append(self)

    def queue(self, pipe: Any, keys: list[str], args: list[ScriptArg]) -> None:
        """Queue on a (cluster) pipeline; the keys must share one slot."""
        # Not `pipe.evalsha`: redis-py's ClusterPipeline refuses that method (redis-py #2914),
        # though it routes the command itself by its keys like any other.
        pipe.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)

    async def run(self, redis: Any, keys: list[str], args: list[ScriptArg]) -> Any:
        """Run now, loading the scripts if Redis does not have them."""
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await load_scripts(redis)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)


async def load_scripts(redis: Any) -> None:
    """Load every projection script (on every primary of a cluster)."""
    for script in _LOADED:
        await redis.script_load(script.script)


async def pipeline_with_scripts(redis: Any, queue: Callable[[Any], None]) -> list[Any]:
    """Run the commands `queue` puts on a pipeline; reloads scripts once on NOSCRIPT (the
    commands must be safe to run twice: reads, or idempotent writes)."""
    for attempt in range(2):
        async with redis.pipeline(transaction=False) as pipe:
            queue(pipe)
            try:
                return list(await pipe.execute())
            except NoScriptError:
                if attempt:
                    raise
                await load_scripts(redis)
    raise AssertionError("unreachable")


ScriptCall = tuple[LuaScript, list[str], list[ScriptArg]]
