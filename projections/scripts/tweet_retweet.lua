-- One retweet per user and tweet: the first retweet entry id wins.
-- KEYS: retweet_by, retweeters (the original's slot)  ARGV: user id, retweet entry id
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('SADD', KEYS[2], ARGV[1])
return 1
