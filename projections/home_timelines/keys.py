"""The keys of the home timelines, all owned by this package.

A user's keys live in one of `shards` hash slots (`{h<user id mod shards>}`): a fan-out
groups its deliveries by shard, one script call per shard, and a read touches one slot.

Versioned (under `chirp:home_timelines:v{n}:{h<s>}:`):
- `home:{user}` -> sorted set of timeline entries (`projections.entries`), capped, expiring
  after the inactivity period unless read again.
- `orig:{user}` -> hash original tweet id -> the entry showing it (a tweet shows once).

Shared by every version (derived from the worker's follow-edge table, not from replay):
- `chirp:home_timelines:{h<s>}:holds:{user}` -> followees whose follow or unfollow is on its
  way into the worker's table: while any is, a rebuilt timeline is served but not stored.
- `chirp:home_timelines:{h<s>}:celebs:{user}` -> the celebrities the user follows, merged in
  at read time instead of pushed.
- `chirp:home_timelines:{celebrities}` -> every user above the celebrity threshold.
- `chirp:home_timelines:{celebrities}:marks` -> hash `topic:partition` of the follows keyed by
  followee -> the last offset the celebrity sets reflect. A partition without a mark (Redis
  wiped) or with one behind the worker's table (Redis restarted from an older file) has its
  celebrity sets recomputed from the table (`celebrities`). On Redis Cluster each primary
  keeps a copy of the marks (`projections.node_positions`): a node that lost part of the sets
  pulls the marks back.
"""

from __future__ import annotations

from dataclasses import dataclass

from projections.base import KEY_PREFIX, Namespace

PROJECTION = "home_timelines"
DEFAULT_SHARDS = 16
# One slot for the set and its marks: a Cluster node that loses one loses the other, so the
# marks never claim a set the node no longer holds.
CELEBRITIES_KEY = f"{KEY_PREFIX}:{PROJECTION}:{{celebrities}}"
CELEBRITY_MARKS_KEY = f"{KEY_PREFIX}:{PROJECTION}:{{celebrities}}:marks"
CELEBRITY_MARKS_OWNER = "celebrities"  # the marks' name in each Cluster node's copy


@dataclass(frozen=True, slots=True)
class HomeKeys:
    """Key names for one version of the home timelines, sharded `shards` ways."""

    keys: Namespace
    shards: int = DEFAULT_SHARDS

    def shard_of(self, user_id: int) -> str:
        return f"h{user_id % self.shards}"

    def home(self, user_id: int) -> str:
        return self.keys.in_slot(self.shard_of(user_id), "home", user_id)

    def orig(self, user_id: int) -> str:
        return self.keys.in_slot(self.shard_of(user_id), "orig", user_id)

    def holds(self, user_id: int) -> str:
        return f"{KEY_PREFIX}:{PROJECTION}:{{{self.shard_of(user_id)}}}:holds:{user_id}"

    def celebs(self, user_id: int) -> str:
        return f"{KEY_PREFIX}:{PROJECTION}:{{{self.shard_of(user_id)}}}:celebs:{user_id}"
