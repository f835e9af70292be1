--[[
  Deletes the owner's locks. Locks held by another owner are left alone.
  When a deleted lock had waiters (lock-acquire.lua marks it), publishes on
  the hash tag's channel so they try again at once instead of at their next
  poll.

  KEYS: variadic: the lock hashes of one lock (one hash slot)
  ARGV[1] owner token
  ARGV[2] Pub/Sub channel of the hash tag (optional: no wake-ups without it)
  Returns: 1 when the owner held every lock (all deleted);
           0 when one of them no longer existed; -1 when another owner holds
           one. In both cases the locks the owner still held are deleted.
  Errors: none
]]
local owner = ARGV[1]
local result = 1
local waiters = false
for i = 1, #KEYS do
  local held = redis.call('HMGET', KEYS[i], 'owner', 'waiting')
  if held[1] == owner then
    if held[2] then waiters = true end
    redis.call('DEL', KEYS[i])
  elseif not held[1] then
    if result == 1 then result = 0 end
  else
    result = -1
  end
end
if waiters and ARGV[2] then
  redis.call('PUBLISH', ARGV[2], 'released')
end
return result
