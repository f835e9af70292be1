--[[
  Ends a fill: stores what the caller fetched from the origin unless a purge
  of one of its tags (or of its URL) landed after the fill began, and releases
  the caller's fill lock. Tag records that are missing are created with a new
  version; every tag record lives at least as long as the entries bound to it,
  so the bookkeeping expires with the entries and needs no sweep.

  KEYS: variadic, all under one hash tag (one shard):
    KEYS[1] entry, KEYS[2] vary record of the URL, KEYS[3] fill lock, KEYS[4] pass marker,
    KEYS[5] the shard's last purge time (kept for the fill horizon),
    KEYS[6..] tag records: the URL's own record, then one per tag
  ARGV[1] mode: 'store', 'pass' (not storable: release the lock and set the pass marker) or 'release'
  ARGV[2] lock token (the lock is deleted only while it still holds this token)
  ARGV[3] bornAt: server time (ms) of the caller's lookup, taken before the origin was called
  ARGV[4] fresh for (ms), from bornAt
  ARGV[5] stale-while-revalidate (ms) after that
  ARGV[6] stale-if-error (ms) after that
  ARGV[7] meta (JSON; opaque here)
  ARGV[8] body bytes
  ARGV[9] vary list (JSON)
  ARGV[10] version for tag records created now (random)
  ARGV[11] fill horizon (ms): a fill older than this is refused (purge times are kept this long)
  ARGV[12] pass marker TTL (ms)
  ARGV[13] how long the fill took (ms), for early refresh
  Returns: 'stored', 'purged' (a purge landed during the fill), 'newer' (a fill that began later
    stored first), 'expired' (nothing left to keep), 'too-old' (beyond the fill horizon),
    'passed' or 'released'
  Errors: none
]]
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

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local born = tonumber(ARGV[3])
if now - born > tonumber(ARGV[11]) then
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
local bindings = {}
for i = 6, #KEYS do
  local r = redis.call('HMGET', KEYS[i], 'v', 'sv', 'p', 'sp')
  if r[3] and tonumber(r[3]) >= born then
    release()
    return 'purged'
  end
  local v, sv = r[1], r[2]
  if not v then
    -- A missing record may have been lost after a purge that this fill
    -- raced: refuse when the shard saw any purge since the fill began.
    if shardPurge >= born then
      release()
      return 'purged'
    end
    v = ARGV[10]
    sv = ARGV[10]
    redis.call('HSET', KEYS[i], 'v', v, 'sv', sv)
  end
  if r[4] and tonumber(r[4]) >= born then
    -- soft-purged during the fill: stored, but stale from the start
    sv = '!'
  end
  bindings[#bindings + 1] = { KEYS[i], v, sv }
end

local existing = redis.call('HGET', KEYS[1], 't0')
if existing and tonumber(existing) > born then
  release()
  return 'newer'
end

for i = 6, #KEYS do
  if redis.call('PTTL', KEYS[i]) < keep then
    redis.call('PEXPIRE', KEYS[i], keep)
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1],
  'm', ARGV[7], 'b', ARGV[8], 'g', cjson.encode(bindings), 't0', born,
  'fr', born + fresh, 'sw', born + fresh + swr, 'se', born + fresh + sie, 'd', ARGV[13])
redis.call('PEXPIRE', KEYS[1], keep)
local varyTtl = redis.call('PTTL', KEYS[2])
if varyTtl < keep then
  varyTtl = keep
end
redis.call('SET', KEYS[2], ARGV[9], 'PX', varyTtl)
release()
redis.call('DEL', KEYS[4])
return 'stored'
