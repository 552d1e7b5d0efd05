-- Take an erased user's email address out of the email index (one slot, `{emails}`).
-- KEYS: the index (address -> id), the addresses by id
local address = redis.call('HGET', KEYS[2], ARGV[1])
if address then
  if redis.call('HGET', KEYS[1], address) == ARGV[1] then
    redis.call('HDEL', KEYS[1], address)
  end
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return address and 1 or 0
