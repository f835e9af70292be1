--[[
  Deletes a session and, unless the tombstone ttl is 0, leaves a tombstone
  under the same hash tag so that a save still in flight for this id (a slow
  request that loaded the session before the logout) is refused.

  KEYS[1] session value (format in session-save.lua)
  KEYS[2] tombstone of this session id
  ARGV[1] tombstone ttl in ms, 0 for none
  ARGV[2] expected owner: only delete when the session belongs to this user
          id ('' deletes whoever owns it)
  Returns: { status, owner or '' }
    status 1 deleted, 0 did not exist (tombstone still written),
    -1 owned by someone else (nothing written)
  Errors: none
]]
--@include session-layout.inc.lua

local current = redis.call('GET', KEYS[1])
local owner = ''
if current then
  local f, pos = readHeader(current)
  owner = string.sub(current, pos, pos + tonumber(f[6]) - 1)
  if ARGV[2] ~= '' and owner ~= ARGV[2] then
    return { -1, owner }
  end
  redis.call('DEL', KEYS[1])
end
if tonumber(ARGV[1]) > 0 then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
end
if current then
  return { 1, owner }
end
return { 0, '' }
