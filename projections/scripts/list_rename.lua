-- Renames a list that exists; a rename applied after the list's deletion recreates nothing.
-- KEYS: list (the list's slot)  ARGV: name
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[1])
return 1
