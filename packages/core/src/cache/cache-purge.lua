--[[
  Purges tags in one shard. Hard: every entry bound to them becomes a miss
  (their version changes) and a fill that began before now is refused when it
  ends (the purge time is kept). Soft: the entries whose fill began at or
  before now turn stale (the soft purge time is kept), and such a fill is
  stored as stale.

  KEYS: variadic, all under one hash tag (one shard): KEYS[1] the shard's last purge time,
    KEYS[2..] tag records
  ARGV[1] 'hard' or 'soft'
  ARGV[2] new version (random)
  ARGV[3] fill horizon (ms): the records keep the purge time at least this long
  Returns: the number of records purged
  Errors: none
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local horizon = tonumber(ARGV[3])
if ARGV[1] == 'hard' then
  redis.call('SET', KEYS[1], now, 'PX', horizon)
end
for i = 2, #KEYS do
  if ARGV[1] == 'hard' then
    redis.call('HSET', KEYS[i], 'v', ARGV[2], 'p', now)
  else
    if redis.call('HEXISTS', KEYS[i], 'v') == 0 then
      redis.call('HSET', KEYS[i], 'v', ARGV[2])
    end
    redis.call('HSET', KEYS[i], 'sp', now)
  end
  if redis.call('PTTL', KEYS[i]) < horizon then
    redis.call('PEXPIRE', KEYS[i], horizon)
  end
end
return #KEYS - 1
