-- Describe an upload unless its owner's erasure removed it (the tombstone is forever): the
-- media and users topics are read independently, so the erasure may be applied first.
-- KEYS: media, erased (one upload's slot)  ARGV: description json
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
