-- Take a user's retweet of a tweet out of their timeline.
-- KEYS: retweets, timeline (the retweeter's slot)  ARGV: original id
local member = redis.call('HGET', KEYS[1], ARGV[1])
if not member then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], member)
return 1
