-- Undo a user's retweet of a tweet; its entry is then shown nowhere (readers check here).
-- KEYS: retweet_by, retweeters (the original's slot)  ARGV: user id
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
return 1
