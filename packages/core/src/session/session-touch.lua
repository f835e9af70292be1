--[[
  Extends a live session and rewrites its stored cookie in one step. A
  session that no longer exists stays gone: touch never re-creates it.

  KEYS[1] session hash (see session-save.lua for its fields)
  ARGV[1] serialized cookie, or '' to keep the stored one
  ARGV[2] idle ttl in ms (integer > 0)
  ARGV[3] index bound the caller has just written (ms), 0 for none
  Returns: { status, expires-at ms, owner or '' }
    status 1 touched, 0 no such session (nothing written),
    3 index bound too low (expires-at is the bound needed; nothing written),
    4 past its absolute deadline (deleted)
  Errors: none
]]
local cur = redis.call('HMGET', KEYS[1], 'a', 'u', 'b', 't')
if cur[4] == false then
  return { 0, 0, '' }
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expireAt = now + tonumber(ARGV[2])
local deadline = tonumber(cur[1])
if deadline ~= nil and expireAt > deadline then expireAt = deadline end
local owner = cur[2] or ''
if expireAt <= now then
  redis.call('DEL', KEYS[1])
  return { 4, 0, owner }
end
if owner ~= '' then
  local bound = tonumber(ARGV[3])
  local stored = tonumber(cur[3])
  if stored ~= nil and stored > bound then bound = stored end
  if bound < expireAt then
    return { 3, expireAt, owner }
  end
  redis.call('HSET', KEYS[1], 'b', bound)
end
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'c', ARGV[1]) end
redis.call('HSET', KEYS[1], 'e', expireAt)
redis.call('PEXPIREAT', KEYS[1], expireAt)
return { 1, expireAt, owner }
