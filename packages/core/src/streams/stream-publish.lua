--[[
  Appends one event to a stream, with an optional producer-side dedupe id,
  and trims the stream without ever dropping an entry a consumer group still
  needs: one pending (delivered, not acknowledged) or not yet delivered to
  some group. The safe floor is the lowest of, for every group, its oldest
  pending id and the id after its last delivered one; trimming stops below it.

  KEYS: variadic. KEYS[1] stream; KEYS[2] (optional) dedupe key, holding the
  entry id of the first publish with that dedupe id
  ARGV[1] event (JSON text, stored in field "d")
  ARGV[2] dedupe TTL in ms
  ARGV[3] max length (0: no length limit); trimmed when over by a slack of
          max(1, min(100, maxLen / 10)) entries
  ARGV[4] max age in ms (0: no age limit)
  Returns: { entry id, 1 duplicate | 0 appended, entries kept over maxLen because a group needs them, 1 if age trimming was held back else 0 }
  Errors: none
]]
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq), ms
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  if am ~= bm then return am < bm end
  return as < bs
end
local function after(id)
  local _, seq, ms = parse(id)
  return ms .. '-' .. string.format('%d', seq + 1)
end
-- Lowest id some group still needs, or nil when the stream has no group.
local function safeFloor(stream)
  local lowest = nil
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local f = {}
    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
    local need = after(f['last-delivered-id'])
    if tonumber(f['pending']) > 0 then
      local summary = redis.call('XPENDING', stream, f['name'])
      if summary[2] and less(summary[2], need) then need = summary[2] end
    end
    if lowest == nil or less(need, lowest) then lowest = need end
  end
  return lowest
end

local stream = KEYS[1]
if KEYS[2] then
  local previous = redis.call('GET', KEYS[2])
  if previous then return { previous, 1, 0, 0 } end
end
local id = redis.call('XADD', stream, '*', 'd', ARGV[1])
if KEYS[2] then redis.call('SET', KEYS[2], id, 'PX', ARGV[2]) end

local kept = 0
local ageHeld = 0
local maxLen = tonumber(ARGV[3])
local maxAge = tonumber(ARGV[4])
local floorKnown, floor = false, nil
if maxLen > 0 then
  local excess = redis.call('XLEN', stream) - maxLen
  local slack = math.max(1, math.min(100, math.floor(maxLen / 10)))
  if excess >= slack then
    floor = safeFloor(stream)
    floorKnown = true
    if floor == nil then
      redis.call('XTRIM', stream, 'MAXLEN', '~', maxLen)
    else
      local drop = redis.call('XRANGE', stream, '-', '(' .. floor, 'COUNT', excess)
      if #drop > 0 then redis.call('XTRIM', stream, 'MINID', after(drop[#drop][1])) end
      kept = excess - #drop
    end
  end
end
if maxAge > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local cut = string.format('%d', now - maxAge) .. '-0'
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  if first[1] and less(first[1][1], cut) then
    if not floorKnown then floor = safeFloor(stream) end
    if floor ~= nil and less(floor, cut) then
      cut = floor
      ageHeld = 1
    end
    redis.call('XTRIM', stream, 'MINID', '~', cut)
  end
end
return { id, 0, kept, ageHeld }
