-- Take an erased user's entries out of the name-prefix index: the members it was indexed
-- under are remembered in a set beside the index (same slot).
-- KEYS: prefix index, the user's indexed members
local members = redis.call('SMEMBERS', KEYS[2])
for _, member in ipairs(members) do
  redis.call('ZREM', KEYS[1], member)
end
redis.call('DEL', KEYS[2])
return #members
