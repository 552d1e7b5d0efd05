-- A follower count that stays exact when an event is applied twice: the edge set of the
-- followee's popularity shard guards the count, which moves only when the edge set changes.
-- KEYS: edges, counts (one popularity shard's slot)  ARGV: edge, followee member, 1 | -1
if ARGV[3] == '1' then
  if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
    redis.call('ZINCRBY', KEYS[2], 1, ARGV[2])
  end
  return 1
end
if redis.call('SREM', KEYS[1], ARGV[1]) == 1 then
  if tonumber(redis.call('ZINCRBY', KEYS[2], -1, ARGV[2])) <= 0 then
    redis.call('ZREM', KEYS[2], ARGV[2])
  end
end
return 1
