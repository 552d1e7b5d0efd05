-- List an upload under its owner unless the owner's account was erased (a tombstone in the
-- owner's slot): the erasure may be applied before the upload.
-- KEYS: uploads, owner_erased (the owner's slot)  ARGV: media id member
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('ZADD', KEYS[1], 0, ARGV[1])
return 1
