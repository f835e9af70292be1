--[[
  Looks up one cache entry and decides, in one step, what the caller gets: a
  fresh hit, a stale hit, or a miss; and who fetches from the origin: at most
  one caller holds the fill lock of a variant, which is also the refresh lock
  of a stale or nearly expired entry.

  An entry is valid only while every tag record it is bound to still carries
  the version the entry was stored with: a hard purge changes the version, a
  lost record (evicted, deleted) is recreated with a new one, so either way
  the entry becomes a miss. A changed soft version makes the entry stale.

  KEYS[1] vary record of the URL: JSON list of the header names its stored responses vary on
  KEYS[2] entry of the variant the caller computed from the vary list it assumed
  KEYS[3] fill lock of that variant
  KEYS[4] pass marker of the URL (its last response could not be stored: no lock, no waiting)
  The tag records named inside the entry are read too: undeclared keys under
  KEYS[1]'s hash tag (the same shard, so the same slot).
  ARGV[1] vary list the caller assumed (JSON), compared with KEYS[1]
  ARGV[2] lock token of the caller
  ARGV[3] lock TTL (ms)
  ARGV[4] '1' when the caller may take the fill or refresh lock, '0' to only look
  ARGV[5] uniform random number in (0, 1] for probabilistic early refresh (XFetch)
  ARGV[6] XFetch beta; 0 disables early refresh
  Returns:
    { 'vary', now, varyJson }: the stored responses vary on other headers; look up again with them
    { 'hit', now, meta, body, bornAt, freshUntil, refresh }: fresh; refresh = 1 when the caller now
      holds the refresh lock (early refresh)
    { 'stale', now, meta, body, bornAt, freshUntil, refresh, reason }: within stale-while-revalidate,
      reason 'expired' or 'soft-purge'; refresh = 1 when the caller holds the refresh lock
    { state, now [, meta, body, bornAt, freshUntil] }: a miss; state 'lead' (the caller holds the fill
      lock), 'wait' (another caller does), 'pass' (pass marker set) or 'none' (look-only); the stale
      copy follows while it may still be served if the origin fails (stale-if-error)
  Errors: none
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local vary = redis.call('GET', KEYS[1])
if vary and vary ~= ARGV[1] then
  return { 'vary', now, vary }
end

local mayLock = ARGV[4] == '1'
local function takeLock()
  if mayLock and redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then
    return 1
  end
  return 0
end

local fallback
local e = redis.call('HMGET', KEYS[2], 'g', 't0', 'fr', 'sw', 'se', 'd')
if e[1] then
  local valid = true
  local soft = false
  local bindings = cjson.decode(e[1])
  for i = 1, #bindings do
    local b = bindings[i]
    local record = redis.call('HMGET', b[1], 'v', 'sv')
    if record[1] ~= b[2] then
      valid = false
      break
    end
    if record[2] ~= b[3] then
      soft = true
    end
  end
  if not valid then
    redis.call('DEL', KEYS[2])
  else
    local born, fr, sw, se, d = tonumber(e[2]), tonumber(e[3]), tonumber(e[4]), tonumber(e[5]), tonumber(e[6])
    if not soft and now < fr then
      local refresh = 0
      local beta = tonumber(ARGV[6])
      if beta > 0 and d > 0 and now - d * beta * math.log(tonumber(ARGV[5])) >= fr then
        refresh = takeLock()
      end
      local body = redis.call('HMGET', KEYS[2], 'm', 'b')
      return { 'hit', now, body[1], body[2], born, fr, refresh }
    end
    if sw > fr and now < sw then
      local body = redis.call('HMGET', KEYS[2], 'm', 'b')
      local reason = 'expired'
      if soft then
        reason = 'soft-purge'
      end
      return { 'stale', now, body[1], body[2], born, fr, takeLock(), reason }
    end
    if now < se then
      fallback = { born, fr }
    end
  end
end

local state
if redis.call('EXISTS', KEYS[4]) == 1 then
  state = 'pass'
elseif not mayLock then
  state = 'none'
elseif takeLock() == 1 then
  state = 'lead'
else
  state = 'wait'
end
if fallback then
  local body = redis.call('HMGET', KEYS[2], 'm', 'b')
  return { state, now, body[1], body[2], fallback[1], fallback[2] }
end
return { state, now }
