-- Raise one node's copy of the projections' positions (never lower it).
-- KEYS[1]: the node's copy. ARGV: (field, offset)... where field is "projection:vN|topic:partition".
for at = 1, #ARGV, 2 do
  local field, offset = ARGV[at], tonumber(ARGV[at + 1])
  local stored = tonumber(redis.call('HGET', KEYS[1], field) or '-1')
  if offset > stored then redis.call('HSET', KEYS[1], field, offset) end
end
return 1
