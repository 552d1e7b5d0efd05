-- Commit a batch: move projection positions, unless a pointer changed since it was planned.
-- KEYS[1]: the pointers hash; KEYS[2..]: positions hashes (all in the bookkeeping slot).
-- ARGV: n, then n (pointer field, expected version or ''), then for each positions key:
--       m, then m (topic:partition, offset). Positions only ever move forward.
local n = tonumber(ARGV[1])
local at = 2
for _ = 1, n do
  local current = redis.call('HGET', KEYS[1], ARGV[at]) or ''
  if current ~= ARGV[at + 1] then return 0 end
  at = at + 2
end
for k = 2, #KEYS do
  local m = tonumber(ARGV[at])
  at = at + 1
  for _ = 1, m do
    local field, offset = ARGV[at], tonumber(ARGV[at + 1])
    local stored = tonumber(redis.call('HGET', KEYS[k], field) or '-1')
    if offset > stored then redis.call('HSET', KEYS[k], field, offset) end
    at = at + 2
  end
end
return 1
