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
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local periodMs = tonumber(ARGV[1])
local periodOffset = tonumber(ARGV[2])
local first = tonumber(ARGV[3])
local back = tonumber(ARGV[4])
local retain = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local ttlMode = ARGV[7]
local cur, pos = 0, 1
if periodMs > 0 then
  cur = math.floor((now + periodOffset) / periodMs)
  pos = cur - first + 1
  if pos < back + 1 or pos > #KEYS then return { -1, now } end
end

local function expire(key)
  if periodMs > 0 then
    redis.call('PEXPIREAT', key, (cur + retain) * periodMs - periodOffset)
  elseif ttl > 0 then
    if ttlMode == 'sliding' then
      redis.call('PEXPIRE', key, ttl)
    else
      redis.call('PEXPIRE', key, ttl, 'NX')
    end
  end
end

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
