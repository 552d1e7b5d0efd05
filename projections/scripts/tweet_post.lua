-- Store a posted tweet unless it was deleted (a tombstone is forever).
-- KEYS: tweet, deleted (one tweet's slot)  ARGV: stored json
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
