--[[
  Changes a score on the board of the current period. Scores are stored so
  that a lower stored score ranks first (a 'desc' board stores the negated
  score), which is why 'best' always keeps the lower stored value.

  KEYS: variadic: one key per candidate period, oldest first (for 'remove',
        every retained period)
  ARGV[1..7]: period length in ms (0: not time-boxed, one key), period
           offset in ms, period index of the first candidate key, how many
           periods before the current one the call needs, retain (periods a
           key lives), TTL in ms (not time-boxed; 0 none), TTL mode
           ('fixed' | 'sliding')
  ARGV[8]: 'set' | 'incr' | 'best' | 'remove'
  ARGV[9]: member
  ARGV[10]: stored score ('set', 'best') or amount ('incr'); unused by 'remove'
  Returns: { 1, now, current period index, new stored score as a string }
           ('remove': { 1, now, cur, number of boards it was removed from }),
           or { -1, now } when the current period is not among the candidates
  Errors: Redis's own when the key holds another type or the score is not
          a number
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

local op, member = ARGV[8], ARGV[9]
if op == 'remove' then
  local removed = 0
  for i = 1, #KEYS do removed = removed + redis.call('ZREM', KEYS[i], member) end
  return { 1, now, cur, removed }
end
local key = KEYS[pos]
local score
if op == 'incr' then
  score = redis.call('ZINCRBY', key, ARGV[10], member)
elseif op == 'best' then
  redis.call('ZADD', key, 'LT', ARGV[10], member)
  score = redis.call('ZSCORE', key, member)
else
  redis.call('ZADD', key, ARGV[10], member)
  score = redis.call('ZSCORE', key, member)
end
expire(key)
return { 1, now, cur, score }
