-- Shared preamble of the time-boxed structure scripts (included by gen-lua).
-- The including script sets `periodKeys`, how many of its KEYS are candidate
-- period keys (oldest first), before the include.
-- ARGV[1..7]: period length in ms (0: not time-boxed, one key), period offset
-- in ms, period index of the first candidate key, how many periods before the
-- current one the call needs, retain (periods a key lives), TTL in ms (not
-- time-boxed; 0 none), TTL mode ('fixed' | 'sliding').
-- Defines: now (server ms), periodMs, periodOffset, first, back, retain, ttl,
-- ttlMode, cur (current period index), pos (its key's index), expire(key).
-- Returns { -1, now } from the script when the current period is not among
-- the candidates (the app's estimate of Redis time was off; it retries).
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
  if pos < back + 1 or pos > periodKeys then return { -1, now } end
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
