--[[
  Moves a scheduled task to a new due time, or brings a dead-lettered task
  back with its attempts reset. It takes a new sequence number, so among
  tasks due in the same millisecond it counts as scheduled now.

  KEYS[1] scheduled set (zset)   KEYS[2] task records (hash)
  KEYS[3] dead-letter set (zset) KEYS[4] wake-up marker (list)
  KEYS[5] sequence (string)
  ARGV[1] id
  ARGV[2] due time in ms, or '' to use ARGV[3]
  ARGV[3] delay in ms from the server clock
  ARGV[4] marker TTL in ms
  Returns: { 1 moved | 0 not moved, state before, due ms }
  Errors: none
]]
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then return { 0, '', 0 } end
local rec = cjson.decode(raw)
local before = rec.s
if before ~= 'scheduled' and before ~= 'dead' then return { 0, before, rec.d } end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due
if ARGV[2] ~= '' then due = tonumber(ARGV[2]) else due = now + tonumber(ARGV[3]) end
if before == 'scheduled' then
  redis.call('ZREM', KEYS[1], rec.m)
else
  redis.call('ZREM', KEYS[3], ARGV[1])
  rec.a = 0
  rec.e = ''
end
local seq = redis.call('INCR', KEYS[5])
rec.m = string.format('%016x', seq) .. ':' .. ARGV[1]
rec.s = 'scheduled'
rec.d = due
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
redis.call('ZADD', KEYS[1], due, rec.m)
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(rec))
if head[2] == nil or due <= tonumber(head[2]) or due <= now then
  redis.call('LPUSH', KEYS[4], '1')
  redis.call('LTRIM', KEYS[4], 0, 9)
  redis.call('PEXPIRE', KEYS[4], ARGV[4])
end
return { 1, before, due }
