--[[
  Reads the state of one resource's lock without changing it.

  KEYS[1] the fencing counter of the resource's hash tag
  KEYS[2] the resource's lock hash
  ARGV: none
  Returns: { fence of the current holder or false, remaining ttl in ms (-2 when
           not held), last fencing token issued for the hash tag or false }
  Errors: none
  read-only
]]
local fence = redis.call('HGET', KEYS[2], 'fence')
return { fence, redis.call('PTTL', KEYS[2]), redis.call('GET', KEYS[1]) }
