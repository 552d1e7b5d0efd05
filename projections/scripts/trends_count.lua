-- Count a tweet in (or out of) every window and hashtag it falls in; counts are set sizes.
-- KEYS: as_of, counts per window (w of them), tagged per window and tag (window-major)
-- ARGV: tweet id, 'add' | 'remove', event ms, w, t, then the t tags
local tweet, op, event_ms = ARGV[1], ARGV[2], tonumber(ARGV[3])
local windows, tags = tonumber(ARGV[4]), tonumber(ARGV[5])
for w = 1, windows do
  local counts = KEYS[1 + w]
  for t = 1, tags do
    local tagged = KEYS[1 + windows + (w - 1) * tags + t]
    local tag = ARGV[5 + t]
    if op == 'add' then
      redis.call('SADD', tagged, tweet)
    else
      redis.call('SREM', tagged, tweet)
    end
    local count = redis.call('SCARD', tagged)
    if count > 0 then
      redis.call('ZADD', counts, count, tag)
    else
      redis.call('ZREM', counts, tag)
    end
  end
end
if op == 'add' then
  local as_of = tonumber(redis.call('GET', KEYS[1]) or '0')
  if event_ms > as_of then redis.call('SET', KEYS[1], event_ms) end
end
return 1
