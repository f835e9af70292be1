--[[
  Schedules one delayed task, unless a task with the same id is scheduled,
  running, dead-lettered or completed within the dedupe window.

  The scheduled set orders by due time (score, integer milliseconds) and, for
  equal scores, by member. Members are "<16 hex digit sequence>:<id>", so
  tasks due in the same millisecond come out in the order they were
  scheduled; the sequence is not packed into the score, which must stay an
  exact integer below 2^53.

  KEYS[1] scheduled set (zset)   KEYS[2] task records (hash id -> JSON)
  KEYS[3] completed dedupe ids (zset id -> expiry ms)
  KEYS[4] wake-up marker (list)  KEYS[5] sequence (string)
  ARGV[1] id
  ARGV[2] payload (JSON text)
  ARGV[3] due time in ms since the epoch, or '' to use ARGV[4]
  ARGV[4] delay in ms from the server clock (when ARGV[3] is '')
  ARGV[5] max attempts
  ARGV[6] '1' when the caller chose the id (kept for the dedupe window)
  ARGV[7] marker TTL in ms
  Returns: { 1 created | 0 duplicate, state, due ms }
  Errors: none
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[1]

redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local existing = redis.call('HGET', KEYS[2], id)
if existing then
  local rec = cjson.decode(existing)
  return { 0, rec.s, rec.d }
end
if redis.call('ZSCORE', KEYS[3], id) then
  return { 0, 'completed', 0 }
end

local due
if ARGV[3] ~= '' then due = tonumber(ARGV[3]) else due = now + tonumber(ARGV[4]) end
local seq = redis.call('INCR', KEYS[5])
local member = string.format('%016x', seq) .. ':' .. id
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')

redis.call('ZADD', KEYS[1], due, member)
redis.call('HSET', KEYS[2], id, cjson.encode({
  m = member, p = ARGV[2], a = 0, A = tonumber(ARGV[5]), c = now, d = due, s = 'scheduled',
  u = tonumber(ARGV[6]), e = ''
}))
-- Wake one sleeping worker when this task is the new earliest one: the
-- others already sleep until a due time at or before theirs.
if head[2] == nil or due <= tonumber(head[2]) or due <= now then
  redis.call('LPUSH', KEYS[4], '1')
  redis.call('LTRIM', KEYS[4], 0, 9)
  redis.call('PEXPIRE', KEYS[4], ARGV[7])
end
return { 1, 'scheduled', due }
