-- Push retweets into the stored home timelines of one shard's recipients.
-- KEYS: pairs (home, orig) of each delivery, all in one shard's slot
-- ARGV: cap, then per delivery (member, original id, the original tweet's own member prefix)
-- A missing timeline gets nothing (it is rebuilt when read). A tweet shows once per timeline:
-- the earliest entry is kept. The original's own entry is found by its prefix; `orig` maps an
-- original to the retweet showing it, and lives as long as the timeline.
local cap = tonumber(ARGV[1])
local delivered = 0
for i = 1, #KEYS, 2 do
  local home, orig = KEYS[i], KEYS[i + 1]
  local at = (i - 1) / 2 * 3 + 2
  local member, original, own = ARGV[at], ARGV[at + 1], ARGV[at + 2]
  if redis.call('EXISTS', home) == 1
      and #redis.call('ZRANGEBYLEX', home, '[' .. own, '[' .. own .. ':', 'LIMIT', 0, 1) == 0 then
    local current = redis.call('HGET', orig, original)
    if (not current) or member < current then
      if current then redis.call('ZREM', home, current) end
      redis.call('ZADD', home, 0, member)
      redis.call('HSET', orig, original, member)
      local lifetime = redis.call('PTTL', home)
      if lifetime > 0 and redis.call('PTTL', orig) == -1 then
        redis.call('PEXPIRE', orig, lifetime)
      end
      if redis.call('ZCARD', home) > cap then
        redis.call('ZREMRANGEBYRANK', home, 0, -(cap + 1))
      end
      delivered = delivered + 1
    end
  end
end
return delivered
