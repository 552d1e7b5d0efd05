-- Push timeline entries into the stored home timelines of one shard's recipients.
-- KEYS: pairs (home, orig) of each delivery, all in one shard's slot
-- ARGV: cap, then per delivery (member, original id)
-- A missing timeline gets nothing (it is rebuilt when read); a tweet shows once per
-- timeline: of several entries for one original, the earliest is kept.
local cap = tonumber(ARGV[1])
local delivered = 0
for i = 1, #KEYS, 2 do
  local home, orig = KEYS[i], KEYS[i + 1]
  local member, original = ARGV[i + 1], ARGV[i + 2]
  if redis.call('EXISTS', home) == 1 then
    local current = redis.call('HGET', orig, original)
    if (not current) or member < current then
      if current then redis.call('ZREM', home, current) end
      redis.call('ZADD', home, 0, member)
      redis.call('HSET', orig, original, member)
      if redis.call('ZCARD', home) > cap then
        redis.call('ZREMRANGEBYRANK', home, 0, -(cap + 1))
      end
      delivered = delivered + 1
    end
  end
end
return delivered
