-- One actor leaves a notification group (unlike, unfollow, undone retweet); an empty group
-- goes, another keeps the time of its newest remaining actor.
-- KEYS: groups (one kind's groups), actors (the group's)
-- ARGV: group member, actor id
-- Idempotent: removing an actor that is not there changes nothing.
redis.call('ZREM', KEYS[2], ARGV[2])
local newest = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if #newest == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], newest[2], ARGV[1])
return 1
