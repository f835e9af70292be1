--[[
  Counts set bits over the current period and the ARGV[4] periods before it:
  bits set in any of them (or) or in all of them (and). Several periods are
  combined with BITOP into a scratch key, counted and deleted again within
  the script.

  KEYS: variadic: one key per candidate period, oldest first, then the
        scratch key last
  ARGV[1..7]: period length in ms (0: not time-boxed, one key), period
           offset in ms, period index of the first candidate key, how many
           periods before the current one the call needs, retain (periods a
           key lives), TTL in ms (not time-boxed; 0 none), TTL mode
           ('fixed' | 'sliding')
  ARGV[8]: 'or' | 'and'
  Returns: { 1, now, current period index, count }, or { -1, now } when the current period is not among the candidates
  Errors: Redis's own when a key holds another type
]]
local periodKeys = #KEYS - 1
--@include period-select.inc.lua

if back == 0 then
  return { 1, now, cur, redis.call('BITCOUNT', KEYS[pos]) }
end
local scratch = KEYS[#KEYS]
local args = { 'BITOP', ARGV[8], scratch }
for i = pos - back, pos do args[#args + 1] = KEYS[i] end
redis.call(unpack(args))
local count = redis.call('BITCOUNT', scratch)
redis.call('DEL', scratch)
return { 1, now, cur, count }
