--[[
  Cancels a scheduled task, or removes a dead-lettered one. A running task is
  left alone (its handler is already executing).

  KEYS[1] scheduled set (zset)   KEYS[2] task records (hash)
  KEYS[3] dead-letter set (zset)
  ARGV[1] id
  Returns: the state the task was in ('scheduled', 'dead': removed; 'active': not removed), or '' when unknown
  Errors: none
]]
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then return '' end
local rec = cjson.decode(raw)
if rec.s == 'scheduled' then
  redis.call('ZREM', KEYS[1], rec.m)
  redis.call('HDEL', KEYS[2], ARGV[1])
elseif rec.s == 'dead' then
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return rec.s
