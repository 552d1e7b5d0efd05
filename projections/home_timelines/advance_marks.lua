-- After a follow batch: how far the celebrity sets reflect each partition of the follow-edge
-- table. Only marks that exist move: a missing one means Redis lost the sets, and only a
-- recomputation from the table (which sets the mark itself) may bring it back.
-- KEYS: marks  ARGV: (field, offset)...
for i = 1, #ARGV, 2 do
  local stored = redis.call('HGET', KEYS[1], ARGV[i])
  if stored and tonumber(stored) < tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 0
