-- A tweet card: the stored tweet with its counts, and which of the given retweets still
-- stand, in one call on the tweet's slot (its keys in the tweets and likes projections).
-- KEYS: tweet, likers, retweeters, replies, retweet_by  ARGV: retweeter ids to check
-- Returns {json or false, like count, retweet count, reply count, retweet entry per ARGV}.
local stored = redis.call('GET', KEYS[1])
local standing = {}
for i = 1, #ARGV do
  standing[i] = redis.call('HGET', KEYS[5], ARGV[i]) or ''
end
return {
  stored,
  redis.call('ZCARD', KEYS[2]),
  redis.call('SCARD', KEYS[3]),
  redis.call('ZCARD', KEYS[4]),
  standing,
}
