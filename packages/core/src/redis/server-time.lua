--[[
  Server clock in milliseconds, and the given keys' count as a sanity echo.
  Used to read Redis time where a script is the natural unit, and by tests of
  the script registry (SCRIPT FLUSH recovery, slot checks).

  KEYS: variadic (any number of keys in one hash slot; only counted)
  ARGV: none
  Returns: { milliseconds since the epoch (integer), #KEYS }
  Errors: none
  read-only
]]
local t = redis.call('TIME')
return { tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), #KEYS }
