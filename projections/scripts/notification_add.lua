-- One actor joins a notification group; the group's time becomes its newest actor's.
-- KEYS: gone (the recipient's deleted tweets), groups (one kind's groups), actors (the group's)
-- ARGV: tweet to check against gone ('' for none), group member, actor id, time (ms)
-- Idempotent: the same actor and time give the same sets; a deleted tweet gets no group back.
if ARGV[1] ~= '' and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  return 0
end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
local newest = redis.call('ZREVRANGE', KEYS[3], 0, 0, 'WITHSCORES')
redis.call('ZADD', KEYS[2], newest[2], ARGV[2])
return 1
