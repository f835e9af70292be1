--[[
  Reads one bit of the bitmap of the current period, or of the period ARGV[4]
  periods before it.

  KEYS: variadic: one key per candidate period, oldest first
  ARGV[1..7]: period length in ms (0: not time-boxed, one key), period
           offset in ms, period index of the first candidate key, how many
           periods before the current one the call needs, retain (periods a
           key lives), TTL in ms (not time-boxed; 0 none), TTL mode
           ('fixed' | 'sliding')
  ARGV[8]: bit offset (integer >= 0)
  Returns: { 1, now, current period index, bit (0 | 1) }, or { -1, now } when the current period is not among the candidates
  Errors: Redis's own when the key holds another type
  read-only
]]
local periodKeys = #KEYS
--@include period-select.inc.lua

return { 1, now, cur, redis.call('GETBIT', KEYS[pos - back], ARGV[8]) }
