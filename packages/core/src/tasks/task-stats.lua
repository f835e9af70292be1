--[[
  Counts of one queue, read in one step.

  KEYS[1] scheduled set (zset)   KEYS[2] active set (zset)
  KEYS[3] dead-letter set (zset)
  ARGV: none
  Returns: { scheduled, due now, active, dead, server time ms }
  Errors: none
  read-only
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return {
  redis.call('ZCARD', KEYS[1]),
  redis.call('ZCOUNT', KEYS[1], '-inf', now),
  redis.call('ZCARD', KEYS[2]),
  redis.call('ZCARD', KEYS[3]),
  now
}
