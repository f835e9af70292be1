--[[
  Writes a session and its expiry, unless the id was destroyed recently: a
  save that a slow request started before a logout finds the tombstone the
  logout left and writes nothing.

  The expiry is now + ttl (Redis time), never later than the absolute
  deadline (creation + absolute lifetime), and, for a session with an owner,
  never later than the bound its entry in the owner's index carries (the
  index lives in another slot; the caller raises the bound first and passes
  it in, so an index entry always outlives its session).

  The value is one string (a hash with values over 64 bytes would take about
  twice the memory):
    R1:<created>:<expires-at>:<deadline or 0>:<bound or 0>:<#owner>:<#cookie>:<#raw id>:<owner><cookie><raw id><data>
  times in ms (Redis clock), lengths in bytes; the parts are binary-safe.

  KEYS[1] session value
  KEYS[2] tombstone of this session id
  ARGV[1] serialized data
  ARGV[2] serialized cookie, or '' for none
  ARGV[3] idle ttl in ms (integer > 0)
  ARGV[4] owner (user id), or '' for none
  ARGV[5] absolute lifetime in ms, 0 for none
  ARGV[6] index bound the caller has just written (ms), 0 for none
  ARGV[7] raw session id when the key holds a hash of it, else ''
  Returns: { status, expires-at ms, previous owner or '' }
    status 1 created, 2 updated, 0 refused (tombstone: destroyed recently),
    3 index bound too low (expires-at is the bound needed; nothing written),
    4 past its absolute deadline (deleted)
  Errors: none
]]
--@include session-layout.inc.lua

if redis.call('EXISTS', KEYS[2]) == 1 then
  return { 0, 0, '' }
end
local now = serverNow()
local ttl = tonumber(ARGV[3])
local owner = ARGV[4]
local absolute = tonumber(ARGV[5])

local created, deadline, storedBound, previous
local current = redis.call('GET', KEYS[1])
if current then
  local f, pos = readHeader(current)
  created = tonumber(f[2])
  deadline = tonumber(f[4])
  if deadline == 0 then deadline = nil end
  storedBound = tonumber(f[5])
  previous = string.sub(current, pos, pos + tonumber(f[6]) - 1)
end
local isNew = created == nil
if isNew then created = now end
previous = previous or ''
if deadline == nil and absolute > 0 then deadline = created + absolute end
local expireAt = now + ttl
if deadline ~= nil and expireAt > deadline then expireAt = deadline end
if expireAt <= now then
  redis.call('DEL', KEYS[1])
  return { 4, 0, previous }
end
local bound = tonumber(ARGV[6])
if owner ~= '' then
  if previous == owner and storedBound ~= nil and storedBound > bound then bound = storedBound end
  if bound < expireAt then
    return { 3, expireAt, previous }
  end
else
  bound = 0
end
local value = 'R1:' .. string.format('%.0f', created) .. ':' .. string.format('%.0f', expireAt) .. ':'
  .. string.format('%.0f', deadline or 0) .. ':' .. string.format('%.0f', bound) .. ':'
  .. #owner .. ':' .. #ARGV[2] .. ':' .. #ARGV[7] .. ':' .. owner .. ARGV[2] .. ARGV[7] .. ARGV[1]
redis.call('SET', KEYS[1], value, 'PXAT', string.format('%.0f', expireAt))
if isNew then
  return { 1, expireAt, previous }
end
return { 2, expireAt, previous }
