-- Re-index a user under new names (a changed display name), only if it is indexed (an erased
-- account's entries are gone and stay gone).
-- KEYS: prefix index, the user's indexed members; ARGV: the new members
if redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
local members = redis.call('SMEMBERS', KEYS[2])
for _, member in ipairs(members) do
  redis.call('ZREM', KEYS[1], member)
end
redis.call('DEL', KEYS[2])
for _, member in ipairs(ARGV) do
  redis.call('ZADD', KEYS[1], 0, member)
  redis.call('SADD', KEYS[2], member)
end
return #ARGV
