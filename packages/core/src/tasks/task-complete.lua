--[[
  Marks a running task done and forgets it; a caller-chosen id is remembered
  for the dedupe window so scheduling it again is a no-op until then.
  Does nothing when the task is no longer this worker's (its lease expired
  and another worker took it, or it was cancelled).

  KEYS[1] active set (zset)   KEYS[2] task records (hash)
  KEYS[3] completed dedupe ids (zset id -> expiry ms)
  ARGV[1] id
  ARGV[2] attempt the worker holds (the lease token)
  ARGV[3] dedupe window in ms (0: forget at once)
  Returns: 1 done, 0 not this worker's any more
  Errors: none
]]
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
if rec.s ~= 'active' or rec.a ~= tonumber(ARGV[2]) or not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local window = tonumber(ARGV[3])
if rec.u == 1 and window > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  redis.call('ZADD', KEYS[3], now + window, ARGV[1])
  redis.call('PEXPIRE', KEYS[3], window)
end
return 1
