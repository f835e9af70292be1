--[[
  Reads a leaderboard: the board of the current period (or ARGV[4] periods
  before it), or a combined board: the union of the current period and the
  ARGV[4] periods before it with weights (ZUNIONSTORE), cached in a key of
  the same hash slot for ARGV[14] ms. Stored scores rank lower first.

  KEYS: variadic: one key per candidate period, oldest first; for a combined
        read, the combined board's key last
  ARGV[1..7]: period length in ms (0: not time-boxed, one key), period
           offset in ms, period index of the first candidate key, how many
           periods before the current one the call needs, retain (periods a
           key lives), TTL in ms (not time-boxed; 0 none), TTL mode
           ('fixed' | 'sliding')
  ARGV[8]: 'score' | 'rank' | 'range' | 'around' | 'size'
  ARGV[9]: member ('score', 'rank', 'around')
  ARGV[10]: start offset ('range') or entries on each side ('around')
  ARGV[11]: number of entries ('range')
  ARGV[12]: 'one' | 'combined'
  ARGV[13]: aggregate for combined: 'SUM' | 'MIN' | 'MAX'
  ARGV[14]: how long a combined board is reused, in ms (0: built for this
            read and deleted)
  ARGV[15..]: weights for combined, the current period's first
  Returns: { 1, now, current period index, 1 if a combined board was built
           else 0, members in the board read, ...op result }, where op result
           is 'score': stored score or nil; 'rank': ordinal rank, number of
           members ranked strictly before it, stored score (nothing if absent);
           'range' and 'around': first ordinal rank, number of members
           strictly before the first entry, then member, stored score pairs;
           'size': nothing. Or { -1, now } when the current period is not among the candidates
  Errors: Redis's own when a key holds another type
]]
local periodKeys = (ARGV[12] == 'combined' and #KEYS - 1 or #KEYS)
--@include period-select.inc.lua

local op, source = ARGV[8], ARGV[12]
local board, built = nil, 0
if source == 'combined' then
  board = KEYS[#KEYS]
  local reuse = tonumber(ARGV[14])
  if reuse == 0 or redis.call('EXISTS', board) == 0 then
    local args = { 'ZUNIONSTORE', board, back + 1 }
    for i = pos, pos - back, -1 do args[#args + 1] = KEYS[i] end
    args[#args + 1] = 'WEIGHTS'
    for i = 15, 15 + back do args[#args + 1] = ARGV[i] end
    args[#args + 1] = 'AGGREGATE'
    args[#args + 1] = ARGV[13]
    redis.call(unpack(args))
    redis.call('PEXPIRE', board, reuse > 0 and reuse or 1000)
    built = 1
  end
else
  board = KEYS[pos - back]
end

local size = redis.call('ZCARD', board)
local out = { 1, now, cur, built, size }
local function push(v) out[#out + 1] = v end
local function before(score) return redis.call('ZCOUNT', board, '-inf', '(' .. score) end
local function entries(start, stop)
  local list = redis.call('ZRANGE', board, start, stop, 'WITHSCORES')
  push(start)
  push(#list > 0 and before(list[2]) or 0)
  for i = 1, #list do push(list[i]) end
end

if op == 'score' then
  push(redis.call('ZSCORE', board, ARGV[9]))
elseif op == 'rank' then
  local score = redis.call('ZSCORE', board, ARGV[9])
  if score then
    push(redis.call('ZRANK', board, ARGV[9]))
    push(before(score))
    push(score)
  end
elseif op == 'range' then
  local start = tonumber(ARGV[10])
  entries(start, start + tonumber(ARGV[11]) - 1)
elseif op == 'around' then
  local r = redis.call('ZRANK', board, ARGV[9])
  if r then
    local n = tonumber(ARGV[10])
    entries(math.max(0, r - n), r + n)
  end
end
if source == 'combined' and tonumber(ARGV[14]) == 0 then redis.call('DEL', board) end
return out
