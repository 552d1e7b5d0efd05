-- Change the fields of a user's profile, only if it exists (an erased account's profile is
-- gone: a change applied after the erasure must not bring it back).
-- KEYS: the profile hash; ARGV: field, value, field, value, ...
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
