--[[
  Gives the owner's locks a new ttl, only if the owner still holds every one
  of them. Never takes a lock that has expired or belongs to someone else: a
  holder that lost its lock must learn so, not silently get it back.

  KEYS: variadic: the lock hashes of one lock (one hash slot)
  ARGV[1] owner token
  ARGV[2] new ttl in ms
  Returns: 1 when every lock was the owner's and now has the new ttl;
           0 when one of them no longer exists; -1 when another owner holds
           one. Nothing changes unless the reply is 1.
  Errors: none
]]
local owner = ARGV[1]
for i = 1, #KEYS do
  local holder = redis.call('HGET', KEYS[i], 'owner')
  if not holder then return 0 end
  if holder ~= owner then return -1 end
end
for i = 1, #KEYS do
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
end
return 1
