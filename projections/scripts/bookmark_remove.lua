-- Removes a user's bookmark of a tweet, whatever entry it had; nothing if there is none.
-- KEYS: index (tweet -> entry), entries (the user's slot)  ARGV: tweet id
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return 0 end
redis.call('ZREM', KEYS[2], entry)
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
