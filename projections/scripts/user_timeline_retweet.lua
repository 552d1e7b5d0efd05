-- A user's retweet enters their timeline once (the first entry for a tweet wins).
-- KEYS: retweets, timeline (the retweeter's slot)  ARGV: original id, entry member
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1
