-- Phase 1 of a home read, in the reader's shard slot: a page of the stored timeline (its
-- lifetime renewed), the celebrities the reader follows, and whether a rebuild may be stored.
-- KEYS: home, orig, celebs, holds  ARGV: ttl seconds, upper bound ('+' or '(member'), count
-- Returns {1 if stored else 0, page members, celebrity ids, number of follows in flight}.
local ttl, upper, count = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local celebs = redis.call('SMEMBERS', KEYS[3])
local holds = redis.call('SCARD', KEYS[4])
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, {}, celebs, holds} end
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
local page = redis.call('ZREVRANGEBYLEX', KEYS[1], upper, '-', 'LIMIT', 0, count)
return {1, page, celebs, holds}
