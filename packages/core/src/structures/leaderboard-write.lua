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
local periodKeys = #KEYS
--@include period-select.inc.lua

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
