--[[
  Records a session in its owner's index (a sorted set of session ids scored
  by a time the session cannot outlive), dropping entries whose score has
  passed, and keeps the index key alive at least as long as its last entry.
  A re-added entry always gets a new, higher score, so a concurrent
  compare-and-forget (session-index-forget.lua) that read the old score
  leaves it alone.

  KEYS[1] owner's index (sorted set: member session id, score bound ms)
  ARGV[1] session id
  ARGV[2] bound in ms (Redis time): the session expires no later
  Returns: the score stored for the id (ms)
  Errors: none
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
local bound = tonumber(ARGV[2])
local old = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if old ~= nil and old >= bound then bound = old + 1 end
redis.call('ZADD', KEYS[1], bound, ARGV[1])
local pttl = redis.call('PTTL', KEYS[1])
local keyExpiry = 0
if pttl > 0 then keyExpiry = now + pttl end
if keyExpiry < bound then redis.call('PEXPIREAT', KEYS[1], bound) end
return bound
