-- Make a rebuilt version serve: set the serving pointer and clear the building one at once.
-- KEYS: the pointers hash  ARGV: serving field, building field, new version
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HDEL', KEYS[1], ARGV[2])
return 1
