--[[
  Adds members to the HyperLogLog of the current period (Redis time).

  KEYS: variadic: one key per candidate period, oldest first (one key when
        not time-boxed)
  ARGV[1..7]: period length in ms (0: not time-boxed, one key), period
           offset in ms, period index of the first candidate key, how many
           periods before the current one the call needs, retain (periods a
           key lives), TTL in ms (not time-boxed; 0 none), TTL mode
           ('fixed' | 'sliding')
  ARGV[8..]: members
  Returns: { 1, now, current period index, 1 if the estimate changed else 0 },
           or { -1, now } when the current period is not among the candidates
  Errors: Redis's own when the key holds another type
]]
local periodKeys = #KEYS
--@include period-select.inc.lua

local key = KEYS[pos]
local changed = 0
-- PFADD in slices: unpack() of a very long argument list overflows the Lua stack.
local i = 8
while i <= #ARGV do
  local j = math.min(i + 999, #ARGV)
  if redis.call('PFADD', key, unpack(ARGV, i, j)) == 1 then changed = 1 end
  i = j + 1
end
expire(key)
return { 1, now, cur, changed }
