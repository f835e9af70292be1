--[[
  Writes a session (data, cookie, owner) and its expiry, unless the id was
  destroyed recently: a save that a slow request started before a logout
  finds the tombstone the logout left and writes nothing.

  The expiry is now + ttl (Redis time), never later than the absolute
  deadline (creation + absolute lifetime), and, for a session with an owner,
  never later than the bound its entry in the owner's index carries (the
  index lives in another slot; the caller raises the bound first and passes
  it in, so an index entry always outlives its session).

  KEYS[1] session hash (fields d data, c cookie, t created ms, a absolute
          deadline ms, e expires-at ms, u owner, b index bound ms, i raw id)
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
if redis.call('EXISTS', KEYS[2]) == 1 then
  return { 0, 0, '' }
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
local owner = ARGV[4]
local absolute = tonumber(ARGV[5])
local cur = redis.call('HMGET', KEYS[1], 't', 'a', 'u', 'b')
local created = tonumber(cur[1])
local isNew = created == nil
if isNew then created = now end
local deadline = tonumber(cur[2])
if deadline == nil and absolute > 0 then deadline = created + absolute end
local expireAt = now + ttl
if deadline ~= nil and expireAt > deadline then expireAt = deadline end
local previous = cur[3] or ''
if expireAt <= now then
  redis.call('DEL', KEYS[1])
  return { 4, 0, previous }
end
local bound = tonumber(ARGV[6])
if owner ~= '' then
  if previous == owner then
    local stored = tonumber(cur[4])
    if stored ~= nil and stored > bound then bound = stored end
  end
  if bound < expireAt then
    return { 3, expireAt, previous }
  end
end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 't', created, 'e', expireAt)
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'c', ARGV[2])
else
  redis.call('HDEL', KEYS[1], 'c')
end
if deadline ~= nil then redis.call('HSET', KEYS[1], 'a', deadline) end
if owner ~= '' then
  redis.call('HSET', KEYS[1], 'u', owner, 'b', bound)
else
  redis.call('HDEL', KEYS[1], 'u', 'b')
end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'i', ARGV[7]) end
redis.call('PEXPIREAT', KEYS[1], expireAt)
if isNew then
  return { 1, expireAt, previous }
end
return { 2, expireAt, previous }
