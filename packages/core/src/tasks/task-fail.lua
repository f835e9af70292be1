--[[
  Records a failed attempt of a running task: back to the scheduled set after
  the retry delay, or to the dead-letter set when it has used its attempts.
  Does nothing when the task is no longer this worker's.

  KEYS[1] active set (zset)      KEYS[2] task records (hash)
  KEYS[3] scheduled set (zset)   KEYS[4] dead-letter set (zset)
  KEYS[5] wake-up marker (list)
  ARGV[1] id
  ARGV[2] attempt the worker holds (the lease token)
  ARGV[3] error message
  ARGV[4] retry delay in ms
  ARGV[5] most dead letters kept
  ARGV[6] marker TTL in ms
  Returns: { 'retry', due ms } | { 'dead', now ms } | { 'lost', 0 }
  Errors: none
]]
local id = ARGV[1]
local raw = redis.call('HGET', KEYS[2], id)
if not raw then return { 'lost', 0 } end
local rec = cjson.decode(raw)
if rec.s ~= 'active' or rec.a ~= tonumber(ARGV[2]) or not redis.call('ZSCORE', KEYS[1], id) then
  return { 'lost', 0 }
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], id)
rec.e = ARGV[3]
if rec.a >= rec.A then
  rec.s = 'dead'
  redis.call('ZADD', KEYS[4], now, id)
  redis.call('HSET', KEYS[2], id, cjson.encode(rec))
  local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[5])
  if over > 0 then
    local gone = redis.call('ZPOPMIN', KEYS[4], over)
    for i = 1, #gone, 2 do redis.call('HDEL', KEYS[2], gone[i]) end
  end
  return { 'dead', now }
end
local due = now + tonumber(ARGV[4])
local head = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
rec.s = 'scheduled'
rec.d = due
redis.call('ZADD', KEYS[3], due, rec.m)
redis.call('HSET', KEYS[2], id, cjson.encode(rec))
if head[2] == nil or due <= tonumber(head[2]) then
  redis.call('LPUSH', KEYS[5], '1')
  redis.call('LTRIM', KEYS[5], 0, 9)
  redis.call('PEXPIRE', KEYS[5], ARGV[6])
end
return { 'retry', due }
