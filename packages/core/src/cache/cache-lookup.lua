--[[
  Looks up one cache entry and decides, in one step, what the caller gets: a
  fresh hit, a stale hit, or a miss; and who fetches from the origin: at most
  one caller holds the fill lock of a variant, which is also the refresh lock
  of a stale or nearly expired entry.

  The URL's head is its entry when its responses do not vary (one GET answers
  a hit), or a record naming the headers they vary on and the generation the
  variants are bound to. An entry is valid only while every tag record it is
  bound to still carries the version the entry was stored with (a hard purge
  changes the version; a lost record is recreated with a new one), and a
  variant only while the head carries its generation: either way a purged or
  orphaned entry is a miss. A tag or URL soft purge at or after the entry's
  fill start makes it stale.

  KEYS[1] head of the URL (its entry, or its vary record)
  KEYS[2] entry of the variant the caller computed from the vary list it assumed
    (the head itself when that list is empty)
  KEYS[3] fill lock of that variant
  KEYS[4] pass marker of the URL (its last response could not be stored: no lock, no waiting)
  The tag records named inside the entry are read too: undeclared keys made of
  ARGV[7] and a suffix, under KEYS[1]'s hash tag (the same shard, so the same slot).
  ARGV[1] vary list the caller assumed (JSON; '[]' for none)
  ARGV[2] lock token of the caller
  ARGV[3] lock TTL (ms)
  ARGV[4] '1' when the caller may take the fill or refresh lock, '0' to only look
  ARGV[5] uniform random number in (0, 1] for probabilistic early refresh (XFetch)
  ARGV[6] XFetch beta; 0 disables early refresh
  ARGV[7] key prefix of the shard's tag records
  Returns:
    { 'vary', now, varyJson }: the stored responses vary on other headers; look up again with them
    { 'hit', now, entry, refresh }: fresh; entry is the stored value (header, meta, body);
      refresh = 1 when the caller now holds the refresh lock (early refresh)
    { 'stale', now, entry, refresh, reason }: within stale-while-revalidate, reason 'expired' or
      'soft-purge'; refresh = 1 when the caller holds the refresh lock
    { state, now [, entry] }: a miss; state 'lead' (the caller holds the fill lock), 'wait'
      (another caller does), 'pass' (pass marker set) or 'none' (look-only); the stale entry
      follows while it may still be served if the origin fails (stale-if-error)
  Errors: none
]]
--@include cache-layout.inc.lua

local now = serverNow()
local assumed = ARGV[1]

local value, e, urlSoft
local head = redis.call('GET', KEYS[1])
local h = readHead(head)
if h then
  if h.kind == 'E' then
    if assumed ~= '[]' then
      return { 'vary', now, '[]' }
    end
    value, e, urlSoft = head, h, h.us
  else
    if h.vary ~= '' and h.vary ~= assumed then
      return { 'vary', now, h.vary }
    end
    if assumed ~= '[]' then
      value = redis.call('GET', KEYS[2])
      e = readEntry(value)
      urlSoft = h.us
      if e and e.g ~= h.g then
        -- stored under a generation a purge (or a lost head) has replaced
        redis.call('DEL', KEYS[2])
        e = nil
      end
    end
  end
end
-- Without a head no variant can be valid: their generation is gone with it.

local mayLock = ARGV[4] == '1'
local function takeLock()
  if mayLock and redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then
    return 1
  end
  return 0
end

local fallback = false
if e then
  local valid = true
  local soft = urlSoft > 0 and urlSoft >= e.t0
  for i = 1, #e.bindings do
    local b = e.bindings[i]
    local record = redis.call('HMGET', ARGV[7] .. b[1], 'v', 'sp')
    if record[1] ~= b[2] then
      valid = false
      break
    end
    if record[2] and tonumber(record[2]) >= e.t0 then
      soft = true
    end
  end
  if not valid then
    -- A head entry stays: it carries the URL's purge times, and the next store replaces it.
    if KEYS[2] ~= KEYS[1] then
      redis.call('DEL', KEYS[2])
    end
  else
    if not soft and now < e.fr then
      local refresh = 0
      local beta = tonumber(ARGV[6])
      if beta > 0 and e.d > 0 and now - e.d * beta * math.log(tonumber(ARGV[5])) >= e.fr then
        refresh = takeLock()
      end
      return { 'hit', now, value, refresh }
    end
    if e.sw > e.fr and now < e.sw then
      local reason = 'expired'
      if soft then
        reason = 'soft-purge'
      end
      return { 'stale', now, value, takeLock(), reason }
    end
    fallback = now < e.se
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
  return { state, now, value }
end
return { state, now }
