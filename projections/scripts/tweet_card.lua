-- Tweet cards: each stored tweet with its counts, and which of the given retweets still
-- stand. One call reads several tweets when their keys may share a call: all of them on a
-- single Redis, the tweets of one hash slot on a cluster.
-- KEYS: per tweet: tweet, likers, retweeters, replies, retweet_by
-- ARGV: per tweet: n, then n retweeter ids to check
-- Returns per tweet {json or false, like count, retweet count, reply count, entry per check}.
local cards = {}
local at = 1
for k = 1, #KEYS, 5 do
  local n = tonumber(ARGV[at])
  local standing = {}
  for i = 1, n do
    standing[i] = redis.call('HGET', KEYS[k + 4], ARGV[at + i]) or ''
  end
  at = at + n + 1
  cards[#cards + 1] = {
    redis.call('GET', KEYS[k]),
    redis.call('ZCARD', KEYS[k + 1]),
    redis.call('SCARD', KEYS[k + 2]),
    redis.call('ZCARD', KEYS[k + 3]),
    standing,
  }
end
return cards
