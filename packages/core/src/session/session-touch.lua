--[[
  Extends a live session and rewrites its stored cookie in one step. A
  session that no longer exists stays gone: touch never re-creates it.

  KEYS[1] session value (format in session-save.lua)
  ARGV[1] serialized cookie, or '' to keep the stored one
  ARGV[2] idle ttl in ms (integer > 0)
  ARGV[3] index bound the caller has just written (ms), 0 for none
  Returns: { status, expires-at ms, owner or '' }
    status 1 touched, 0 no such session (nothing written),
    3 index bound too low (expires-at is the bound needed; nothing written),
    4 past its absolute deadline (deleted)
  Errors: none
]]
--@include session-layout.inc.lua

local current = redis.call('GET', KEYS[1])
if not current then
  return { 0, 0, '' }
end
local f, pos = readHeader(current)
local ownerLen, cookieLen, rawLen = tonumber(f[6]), tonumber(f[7]), tonumber(f[8])
local owner = string.sub(current, pos, pos + ownerLen - 1)
local cookie = string.sub(current, pos + ownerLen, pos + ownerLen + cookieLen - 1)
local rest = string.sub(current, pos + ownerLen + cookieLen)

local now = serverNow()
local expireAt = now + tonumber(ARGV[2])
local deadline = tonumber(f[4])
if deadline > 0 and expireAt > deadline then expireAt = deadline end
if expireAt <= now then
  redis.call('DEL', KEYS[1])
  return { 4, 0, owner }
end
local bound = tonumber(f[5])
if owner ~= '' then
  local given = tonumber(ARGV[3])
  if given > bound then bound = given end
  if bound < expireAt then
    return { 3, expireAt, owner }
  end
end
if ARGV[1] ~= '' then cookie = ARGV[1] end
local value = 'R1:' .. f[2] .. ':' .. string.format('%.0f', expireAt) .. ':' .. f[4] .. ':'
  .. string.format('%.0f', bound) .. ':' .. ownerLen .. ':' .. #cookie .. ':' .. rawLen .. ':' .. owner .. cookie .. rest
redis.call('SET', KEYS[1], value, 'PXAT', string.format('%.0f', expireAt))
return { 1, expireAt, owner }
