-- Store a rebuilt home timeline, unless one exists already or follows are in flight.
-- KEYS: home, orig, holds (the reader's shard slot)
-- ARGV: ttl, then (member, original id) pairs; the original is '' unless the entry is a retweet
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('SCARD', KEYS[3]) > 0 then return 0 end
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], 0, ARGV[i])
  if ARGV[i + 1] ~= '' then redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i]) end
end
if #ARGV > 1 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
return 1
