--[[
  Promotes due tasks to running for one worker, in one atomic step: tasks
  whose lease expired (their worker died) go back to the scheduled set or, out
  of attempts, to the dead-letter set; then up to ARGV[1] due tasks move from
  the scheduled set to the active set with a lease, their attempt counted.
  A worker killed before, during or after this script loses nothing: either
  the task is still scheduled, or it is active with a lease that expires.

  KEYS[1] scheduled set (zset)   KEYS[2] active set (zset id -> lease expiry ms)
  KEYS[3] task records (hash)    KEYS[4] dead-letter set (zset id -> death ms)
  KEYS[5] wake-up marker (list)
  ARGV[1] how many tasks to claim at most
  ARGV[2] lease in ms
  ARGV[3] most dead letters kept (oldest dropped beyond)
  ARGV[4] marker TTL in ms
  Returns: { now ms, next wake-up ms or -1, recovered count, { dead id, attempts, ... }, { id, payload, attempt, max attempts, due ms, created ms, last error, ... } }
  Errors: none
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local maxDead = tonumber(ARGV[3])

local function bury(id, rec, err)
  rec.s = 'dead'
  rec.e = err
  redis.call('ZADD', KEYS[4], now, id)
  redis.call('HSET', KEYS[3], id, cjson.encode(rec))
  local over = redis.call('ZCARD', KEYS[4]) - maxDead
  if over > 0 then
    local gone = redis.call('ZPOPMIN', KEYS[4], over)
    for i = 1, #gone, 2 do redis.call('HDEL', KEYS[3], gone[i]) end
  end
end

local recovered = 0
local dead = {}
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[2], id)
  local raw = redis.call('HGET', KEYS[3], id)
  if raw then
    local rec = cjson.decode(raw)
    if rec.a >= rec.A then
      bury(id, rec, 'lease expired during attempt ' .. rec.a .. ' of ' .. rec.A .. ' (worker lost)')
      dead[#dead + 1] = id
      dead[#dead + 1] = rec.a
    else
      rec.s = 'scheduled'
      rec.d = now
      redis.call('ZADD', KEYS[1], now, rec.m)
      redis.call('HSET', KEYS[3], id, cjson.encode(rec))
      recovered = recovered + 1
    end
  end
end

local out = {}
local claimed = 0
if count > 0 then
  local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, count)
  for _, member in ipairs(members) do
    redis.call('ZREM', KEYS[1], member)
    local id = string.sub(member, 18)
    local raw = redis.call('HGET', KEYS[3], id)
    if raw then
      local rec = cjson.decode(raw)
      rec.a = rec.a + 1
      rec.s = 'active'
      redis.call('ZADD', KEYS[2], now + lease, id)
      redis.call('HSET', KEYS[3], id, cjson.encode(rec))
      out[#out + 1] = id
      out[#out + 1] = rec.p
      out[#out + 1] = rec.a
      out[#out + 1] = rec.A
      out[#out + 1] = rec.d
      out[#out + 1] = rec.c
      out[#out + 1] = rec.e
      claimed = claimed + 1
    end
  end
end

local nextAt = -1
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if head[2] then nextAt = tonumber(head[2]) end
local firstLease = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if firstLease[2] and (nextAt < 0 or tonumber(firstLease[2]) < nextAt) then nextAt = tonumber(firstLease[2]) end
-- More is due than this worker took: wake another one.
if nextAt >= 0 and nextAt <= now and claimed == count then
  redis.call('LPUSH', KEYS[5], '1')
  redis.call('LTRIM', KEYS[5], 0, 9)
  redis.call('PEXPIRE', KEYS[5], ARGV[4])
end
return { now, nextAt, recovered, dead, out }
