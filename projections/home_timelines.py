"""Home timelines: the newest entries from the people a user follows, with hybrid fan-out.

Keys (under `chirp:home_timelines:v{n}:`):
- `home:{user}` -> sorted set of entry ids (tweets and retweet entries, lexicographic order),
  capped, expiring after the inactivity period unless the user reads it again.
- `orig:{user}` -> hash original tweet id -> the entry showing it, so a tweet appears once
  however many followees retweeted it (the earliest entry wins, the same rule on every path).

Push: a tweet or retweet is written into the existing home timelines of the author's followers
(one script call per event, all followers at once), unless the author has more followers than
the celebrity threshold. Users without a stored timeline (new, or inactive long enough for it
to expire) get nothing pushed; their timeline is rebuilt when they next read it, from the
people they follow (up to 100 entries each). Celebrities' entries are merged in at read time.
Follows, unfollows and undone retweets drop the affected timelines, which are then rebuilt.
Deleted tweets are dropped when read (tombstones in the `tweets` projection).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from domain.events import (
    Event,
    RetweetUndone,
    TweetPosted,
    TweetRetweeted,
    UserFollowed,
    UserUnfollowed,
)
from domain.ids import sortable_id
from projections.base import KEY_PREFIX, Namespace
from projections.lua import LuaScript, ScriptArg, ScriptCall

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

DEFAULT_CAP = 800
HOLD_TTL_S = 60
PUSH_CHUNK = 1000  # recipients per script call: Redis stays responsive to readers
FOLLOW_BACKFILL = 100

# ARGV: home prefix, orig prefix, entry, original, cap, recipient ids...
_DELIVER = LuaScript("""
local home_prefix, orig_prefix, entry, original = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cap = tonumber(ARGV[5])
local delivered = 0
for i = 6, #ARGV do
  local home = home_prefix .. ARGV[i]
  if redis.call('EXISTS', home) == 1 then
    local orig = orig_prefix .. ARGV[i]
    local current = redis.call('HGET', orig, original)
    if (not current) or entry < current then
      if current then redis.call('ZREM', home, current) end
      redis.call('ZADD', home, 0, entry)
      redis.call('HSET', orig, original, entry)
      redis.call('ZREMRANGEBYRANK', home, 0, -(cap + 1))
      delivered = delivered + 1
    end
  end
end
return delivered
""")

# ARGV: home, orig, following, followers prefix, timeline prefix, retweet_of, hold key,
#       reader (sortable), per-followee, cap, celebrity threshold, ttl seconds, before, count
# Returns {celebrity ids, page entry ids}.
_READ = LuaScript("""
local home, orig, following, followers_prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local timeline_prefix, retweet_of, hold, reader = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local per, cap = tonumber(ARGV[9]), tonumber(ARGV[10])
local threshold, ttl = tonumber(ARGV[11]), tonumber(ARGV[12])
local before, count = ARGV[13], tonumber(ARGV[14])
local function plain(id) return (string.gsub(id, '^0+', '')) end
local celebrities, sources = {}, {reader}
for _, followee in ipairs(redis.call('ZRANGE', following, 0, -1)) do
  if redis.call('ZCARD', followers_prefix .. plain(followee)) > threshold then
    table.insert(celebrities, plain(followee))
  else
    table.insert(sources, followee)
  end
end
if redis.call('EXISTS', home) == 1 then
  redis.call('EXPIRE', home, ttl)
  redis.call('EXPIRE', orig, ttl)
  return {celebrities, redis.call('ZREVRANGEBYLEX', home, before, '-', 'LIMIT', 0, count)}
end
local earliest = {}
for _, source in ipairs(sources) do
  local timeline = timeline_prefix .. plain(source)
  local entries = redis.call('ZREVRANGEBYLEX', timeline, '+', '-', 'LIMIT', 0, per)
  for _, entry in ipairs(entries) do
    local original = redis.call('HGET', retweet_of, entry) or entry
    if (not earliest[original]) or entry < earliest[original] then earliest[original] = entry end
  end
end
local rows = {}
for original, entry in pairs(earliest) do table.insert(rows, {entry, original}) end
table.sort(rows, function(a, b) return a[1] > b[1] end)
local store = redis.call('SCARD', hold) == 0
local page = {}
for i = 1, math.min(cap, #rows) do
  local entry, original = rows[i][1], rows[i][2]
  if store then
    redis.call('ZADD', home, 0, entry)
    redis.call('HSET', orig, original, entry)
  end
  if #page < count and (before == '+' or entry < string.sub(before, 2)) then
    table.insert(page, entry)
  end
end
if store and #rows > 0 then
  redis.call('EXPIRE', home, ttl)
  redis.call('EXPIRE', orig, ttl)
end
return {celebrities, page}
""")


class FollowerDirectory(Protocol):
    """Who follows a user, as the worker knows it; None when too many to push to."""

    def followers_of(self, user_id: int) -> list[int] | None: ...


class NoFollowers:
    """For rebuilds: a new version holds no timelines yet, so there is nobody to push to."""

    def followers_of(self, user_id: int) -> list[int] | None:
        return []


def home_key(keys: Namespace, user_id: int) -> str:
    return keys.key("home", user_id)


def orig_key(keys: Namespace, user_id: int) -> str:
    return keys.key("orig", user_id)


def hold_key(user_id: int) -> str:
    """Follows of this user on their way into the worker's graph table (a set of followee
    ids): while any is pending, a rebuilt timeline is served but not stored."""
    return f"{KEY_PREFIX}:home-holds:{user_id}"


async def hold_for_follow(redis: Redis, follower_id: int, followee_id: int) -> None:
    """Before a follow or unfollow is written: until the worker's graph table has the change
    (it then drops the timeline and lifts the hold), a rebuild would miss pushes, so it is
    served but not stored. The hold expires by itself should the write never happen."""
    key = hold_key(follower_id)
    async with redis.pipeline(transaction=True) as tx:
        tx.sadd(key, followee_id)
        tx.expire(key, HOLD_TTL_S)
        await tx.execute()


class HomeTimelinesProjection:
    name: ClassVar[str] = "home_timelines"
    topic_families: ClassVar[tuple[str, ...]] = ("tweets", "follows")

    def __init__(self, directory: FollowerDirectory | None = None, cap: int = DEFAULT_CAP) -> None:
        self.directory = directory or NoFollowers()
        self.cap = cap

    def pushes(self, event: Event, keys: Namespace) -> list[ScriptCall]:
        """Fan-out deliveries, run outside the batch's transaction in chunks of recipients."""
        match event:
            case TweetPosted():
                return self._deliveries(event.author_id, event.tweet_id, event.tweet_id, keys)
            case TweetRetweeted():
                return self._deliveries(event.user_id, event.retweet_id, event.tweet_id, keys)
        return []

    def apply(self, event: Event, keys: Namespace, tx: Pipeline) -> None:
        match event:
            case RetweetUndone():
                followers = self.directory.followers_of(event.user_id) or []
                self._reset([event.user_id, *followers], keys, tx)
            case UserFollowed() | UserUnfollowed():
                self._reset([event.follower_id], keys, tx)

    def _deliveries(
        self, author: int, entry: int, original: int, keys: Namespace
    ) -> list[ScriptCall]:
        recipients = [author, *(self.directory.followers_of(author) or [])]
        head: list[ScriptArg] = [
            keys.key("home", ""),
            keys.key("orig", ""),
            sortable_id(entry),
            sortable_id(original),
            self.cap,
        ]
        return [
            (_DELIVER, [], [*head, *recipients[start : start + PUSH_CHUNK]])
            for start in range(0, len(recipients), PUSH_CHUNK)
        ]

    def _reset(self, users: list[int], keys: Namespace, tx: Pipeline) -> None:
        for user in users:
            tx.delete(home_key(keys, user), orig_key(keys, user))


@dataclass(frozen=True, slots=True)
class HomeSources:
    """The namespaces a home timeline read draws on."""

    home: Namespace
    follow_graph: Namespace
    user_timelines: Namespace


@dataclass(frozen=True, slots=True)
class HomeRead:
    celebrities: list[int]
    entries: list[int]


async def read_home(
    redis: Redis,
    sources: HomeSources,
    reader: int,
    *,
    before: int | None,
    count: int,
    celebrity_threshold: int,
    inactive_s: int,
    cap: int = DEFAULT_CAP,
) -> HomeRead:
    """Stored entries (rebuilding a missing timeline first) and the celebrities to merge in."""
    args: list[ScriptArg] = [
        home_key(sources.home, reader),
        orig_key(sources.home, reader),
        sources.follow_graph.key("following", reader),
        sources.follow_graph.key("followers", ""),
        sources.user_timelines.key("timeline", ""),
        sources.user_timelines.key("retweet_of"),
        hold_key(reader),
        sortable_id(reader),
        FOLLOW_BACKFILL,
        cap,
        celebrity_threshold,
        inactive_s,
        f"({sortable_id(before)}" if before is not None else "+",
        count,
    ]
    celebrities, entries = await _READ.run(redis, [], args)
    return HomeRead([int(c) for c in celebrities], [int(e) for e in entries])
