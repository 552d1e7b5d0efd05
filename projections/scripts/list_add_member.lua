-- Adds a member to a list that exists; an addition applied after the list's deletion
-- recreates nothing.
-- KEYS: list, members (the list's slot)  ARGV: member id (fixed width)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1
