--[[
  Extends the leases of a worker's running tasks (its heartbeat), so a handler
  that runs long is not taken for a dead one. Skips tasks that are no longer
  this worker's and returns their ids.

  KEYS[1] active set (zset)   KEYS[2] task records (hash)
  ARGV[1] lease in ms
  ARGV[2..] id, attempt, id, attempt, ...
  Returns: { ids no longer held }
  Errors: none
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lost = {}
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local raw = redis.call('HGET', KEYS[2], id)
  local held = false
  if raw and redis.call('ZSCORE', KEYS[1], id) then
    local rec = cjson.decode(raw)
    held = rec.s == 'active' and rec.a == tonumber(ARGV[i + 1])
  end
  if held then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), id)
  else
    lost[#lost + 1] = id
  end
end
return lost
