--[[
  Drops the entries of an owner's index whose bound has passed and returns
  the rest. The caller still checks each listed session, since a session can
  end (logout, shorter ttl) before its bound.

  KEYS[1] owner's index (sorted set: member session id, score bound ms)
  ARGV: none
  Returns: flat list { id, score, id, score, ... }, oldest bound first
  Errors: none
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
