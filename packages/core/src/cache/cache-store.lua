--[[
  Ends a fill: stores what the caller fetched from the origin unless a purge
  of one of its tags (or of its URL) landed after the fill began, and releases
  the caller's fill lock. Tag records that are missing are created with a new
  version; every tag record lives at least as long as the entries bound to it,
  so the bookkeeping expires with the entries and needs no sweep.

  A response that does not vary is written as the URL's head: one key. One
  that varies is written under its variant, and the head becomes (or stays)
  the record of the URL's vary list and generation. The URL's purge times
  move with the head, whichever form it takes.

  KEYS: variadic, all under one hash tag (one shard):
    KEYS[1] entry (the head itself when the response does not vary), KEYS[2] head of the URL,
    KEYS[3] fill lock, KEYS[4] pass marker,
    KEYS[5] the shard's last purge time (kept for the fill horizon),
    KEYS[6..] tag records
  ARGV[1] mode: 'store', 'pass' (not storable: release the lock and set the pass marker) or 'release'
  ARGV[2] lock token (the lock is deleted only while it still holds this token)
  ARGV[3] bornAt: server time (ms) of the caller's lookup, taken before the origin was called
  ARGV[4] fresh for (ms), from bornAt
  ARGV[5] stale-while-revalidate (ms) after that
  ARGV[6] stale-if-error (ms) after that
  ARGV[7] meta length (I4) and meta (opaque here)
  ARGV[8] body bytes
  ARGV[9] vary list (JSON; '[]' for none)
  ARGV[10] random version, for tag records and a URL generation created now
  ARGV[11] fill horizon (ms): a fill older than this is refused (purge times are kept this long)
  ARGV[12] pass marker TTL (ms)
  ARGV[13] how long the fill took (ms), for early refresh
  ARGV[14] key prefix of the shard's tag records
  Returns: 'stored', 'purged' (a purge landed during the fill), 'newer' (a fill that began later
    stored first), 'expired' (nothing left to keep), 'too-old' (beyond the fill horizon),
    'passed' or 'released'
  Errors: none
]]
--@include cache-layout.inc.lua

local function release()
  if redis.call('GET', KEYS[3]) == ARGV[2] then
    redis.call('DEL', KEYS[3])
  end
end

local mode = ARGV[1]
if mode == 'release' then
  release()
  return 'released'
end
if mode == 'pass' then
  release()
  redis.call('SET', KEYS[4], '1', 'PX', ARGV[12])
  return 'passed'
end

local now = serverNow()
local born = tonumber(ARGV[3])
local horizon = tonumber(ARGV[11])
if now - born > horizon then
  release()
  return 'too-old'
end
local fresh, swr, sie = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local expireAt = born + fresh + math.max(swr, sie)
if expireAt <= now then
  release()
  return 'expired'
end
local keep = expireAt - now

local shardPurge = tonumber(redis.call('GET', KEYS[5]) or '0')
local varies = KEYS[1] ~= KEYS[2]
local h = readHead(redis.call('GET', KEYS[2]))
local up, us = 0, 0
if h then
  up, us = h.up, h.us
  if up >= born then
    release()
    return 'purged'
  end
  if h.kind == 'E' and h.t0 > born then
    release()
    return 'newer'
  end
elseif shardPurge >= born then
  -- The head may have been lost after a purge of the URL that this fill
  -- raced: refuse when the shard saw any purge since the fill began.
  release()
  return 'purged'
end

local prefix = ARGV[14]
local bindings = {}
for i = 6, #KEYS do
  local r = redis.call('HMGET', KEYS[i], 'v', 'p')
  if r[2] and tonumber(r[2]) >= born then
    release()
    return 'purged'
  end
  local v = r[1]
  if not v then
    -- A missing record may have been lost after a purge that this fill
    -- raced: refuse when the shard saw any purge since the fill began.
    if shardPurge >= born then
      release()
      return 'purged'
    end
    v = ARGV[10]
    redis.call('HSET', KEYS[i], 'v', v)
  end
  -- A soft purge since the fill began needs no mark: its time is at or after
  -- the entry's fill start, which is what makes an entry stale.
  local part = string.sub(KEYS[i], #prefix + 1)
  bindings[#bindings + 1] = struct.pack('>I2c0Bc0', #part, part, #v, v)
end

if varies then
  local existing = redis.call('GETRANGE', KEYS[1], 0, 7)
  if #existing == 8 and existing:sub(1, 1) == 'E' and existing:byte(2) == FORMAT then
    local _, _, t0 = struct.unpack('>c1BI6', existing)
    if t0 > born then
      release()
      return 'newer'
    end
  end
end

for i = 6, #KEYS do
  if redis.call('PTTL', KEYS[i]) < keep then
    redis.call('PEXPIRE', KEYS[i], keep)
  end
end

-- Purge times stay readable for the fill horizon, wherever they move.
local headKeep = keep
local lastPurge = math.max(up, us)
if lastPurge > 0 and lastPurge + horizon - now > headKeep then
  headKeep = lastPurge + horizon - now
end

local g = ''
if varies then
  g = ARGV[10]
  if h and h.kind == 'R' then
    g = h.g
    local left = redis.call('PTTL', KEYS[2])
    if left > headKeep then
      headKeep = left
    end
  end
  redis.call('SET', KEYS[2], packRecord(up, us, g, ARGV[9]), 'PX', headKeep)
  -- A variant carries no purge times: its head does.
  up, us = 0, 0
end

local header = struct.pack(ENTRY_FIXED .. 'Bc0B', 'E', FORMAT, born, born + fresh, born + fresh + swr, born + fresh + sie,
  up, us, math.min(tonumber(ARGV[13]), 4294967295), #g, g, #bindings)
local entryKeep = keep
if not varies then
  entryKeep = headKeep
end
redis.call('SET', KEYS[1], header .. table.concat(bindings) .. ARGV[7] .. ARGV[8], 'PX', entryKeep)
release()
redis.call('DEL', KEYS[4])
return 'stored'
