--[[
  Estimated number of distinct members over the current period and the
  ARGV[4] periods before it (PFCOUNT merges them on the fly).

  KEYS: variadic: one key per candidate period, oldest first
  ARGV[1..7]: period length in ms (0: not time-boxed, one key), period
           offset in ms, period index of the first candidate key, how many
           periods before the current one the call needs, retain (periods a
           key lives), TTL in ms (not time-boxed; 0 none), TTL mode
           ('fixed' | 'sliding')
  Returns: { 1, now, current period index, estimate }, or { -1, now } when the current period is not among the candidates
  Errors: Redis's own when a key holds another type
]]
local periodKeys = #KEYS
--@include period-select.inc.lua

local keys = {}
for i = pos - back, pos do keys[#keys + 1] = KEYS[i] end
return { 1, now, cur, redis.call('PFCOUNT', unpack(keys)) }
