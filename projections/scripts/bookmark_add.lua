-- A tweet is bookmarked once per user: the first bookmark of it stays (and keeps its place).
-- KEYS: index (tweet -> entry), entries (the user's slot)  ARGV: tweet id, entry member
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1
