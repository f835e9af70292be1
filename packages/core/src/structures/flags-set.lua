--[[
  Sets or clears one bit in the bitmap of the current period.

  KEYS: variadic: one key per candidate period, oldest first
  ARGV[1..7]: period length in ms (0: not time-boxed, one key), period
           offset in ms, period index of the first candidate key, how many
           periods before the current one the call needs, retain (periods a
           key lives), TTL in ms (not time-boxed; 0 none), TTL mode
           ('fixed' | 'sliding')
  ARGV[8]: bit offset (integer >= 0)
  ARGV[9]: 1 to set, 0 to clear
  Returns: { 1, now, current period index, previous bit (0 | 1) },
           or { -1, now } when the current period is not among the candidates
  Errors: Redis's own when the key holds another type
]]
local periodKeys = #KEYS
--@include period-select.inc.lua

local key = KEYS[pos]
local previous = redis.call('SETBIT', key, ARGV[8], ARGV[9])
expire(key)
return { 1, now, cur, previous }
