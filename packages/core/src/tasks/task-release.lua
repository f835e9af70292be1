--[[
  Gives running tasks back (a worker shutting down before its handlers
  finished): each goes back to the scheduled set, due now, and the attempt it
  used is not counted.

  KEYS[1] active set (zset)      KEYS[2] task records (hash)
  KEYS[3] scheduled set (zset)   KEYS[4] wake-up marker (list)
  ARGV[1] marker TTL in ms
  ARGV[2..] id, attempt, id, attempt, ...
  Returns: number of tasks released
  Errors: none
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local released = 0
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local raw = redis.call('HGET', KEYS[2], id)
  if raw and redis.call('ZSCORE', KEYS[1], id) then
    local rec = cjson.decode(raw)
    if rec.s == 'active' and rec.a == tonumber(ARGV[i + 1]) then
      redis.call('ZREM', KEYS[1], id)
      rec.s = 'scheduled'
      rec.a = rec.a - 1
      rec.d = now
      redis.call('ZADD', KEYS[3], now, rec.m)
      redis.call('HSET', KEYS[2], id, cjson.encode(rec))
      released = released + 1
    end
  end
end
if released > 0 then
  redis.call('LPUSH', KEYS[4], '1')
  redis.call('LTRIM', KEYS[4], 0, 9)
  redis.call('PEXPIRE', KEYS[4], ARGV[1])
end
return released
