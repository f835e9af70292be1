--[[
  Adds to an integer counter and applies its TTL, in one step.

  KEYS[1]: the counter (a string holding an integer)
  ARGV[1]: amount to add (integer, negative to subtract)
  ARGV[2]: TTL in ms; 0 for none
  ARGV[3]: 'fixed' (TTL set when the key is created, never moved) or
           'sliding' (TTL restarted on every write)
  Returns: the counter's new value (integer)
  Errors: Redis's own when the key holds a non-integer or the result
          overflows 64 bits
]]
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  if ARGV[3] == 'sliding' then
    redis.call('PEXPIRE', KEYS[1], ttl)
  else
    redis.call('PEXPIRE', KEYS[1], ttl, 'NX')
  end
end
return value
