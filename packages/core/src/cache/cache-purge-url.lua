--[[
  Purges one URL (or cache-aside key) in its shard, through its head. Hard:
  a head entry is replaced by a record carrying the purge time, a head record
  gets a new generation (its variants become misses), and a fill that began
  before now is refused when it ends. Soft: the head keeps its entry or
  generation and records the soft purge time, which makes every entry of the
  URL whose fill began at or before it stale, and such a fill stored as stale.
  Either way the time stays in the head at least the fill horizon.

  KEYS[1] the shard's last purge time
  KEYS[2] head of the URL
  ARGV[1] 'hard' or 'soft'
  ARGV[2] new generation (random)
  ARGV[3] fill horizon (ms)
  Returns: 1
  Errors: none
]]
--@include cache-layout.inc.lua

local now = serverNow()
local hard = ARGV[1] == 'hard'
local horizon = tonumber(ARGV[3])
if hard then
  redis.call('SET', KEYS[1], now, 'PX', horizon)
end

local h = readHead(redis.call('GET', KEYS[2]))
if h and not hard then
  -- In place (no copy of the body, TTL kept): the soft purge time follows
  -- kind, format, t0 fr sw se up in an entry, and kind, format, up in a record.
  local offset = 32
  if h.kind == 'R' then
    offset = 8
  end
  redis.call('SETRANGE', KEYS[2], offset, struct.pack('>I6', now))
elseif h and h.kind == 'R' then
  redis.call('SET', KEYS[2], packRecord(now, h.us, ARGV[2], h.vary), 'KEEPTTL')
else
  -- No head, or a head entry: what is left is a record of the purge.
  local up, us = 0, 0
  if hard then
    up = now
  else
    us = now
  end
  if h then
    us = math.max(us, h.us)
  end
  redis.call('SET', KEYS[2], packRecord(up, us, ARGV[2], ''), 'PX', horizon)
end
if redis.call('PTTL', KEYS[2]) < horizon then
  redis.call('PEXPIRE', KEYS[2], horizon)
end
return 1
