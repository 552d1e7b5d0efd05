-- Push new tweets into the stored home timelines of one shard's recipients.
-- KEYS: the home timeline of each delivery, all in one shard's slot
-- ARGV: cap, then the member of each delivery
-- A missing timeline gets nothing (it is rebuilt when read). A new tweet cannot be shown by
-- any entry yet (a retweet of it is accepted only once it is projected), so no lookup is due.
local cap = tonumber(ARGV[1])
local delivered = 0
for i = 1, #KEYS do
  local home = KEYS[i]
  if redis.call('EXISTS', home) == 1 then
    redis.call('ZADD', home, 0, ARGV[i + 1])
    if redis.call('ZCARD', home) > cap then
      redis.call('ZREMRANGEBYRANK', home, 0, -(cap + 1))
    end
    delivered = delivered + 1
  end
end
return delivered
