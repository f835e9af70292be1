--[[
  Deletes the owner's locks. Locks held by another owner are left alone.

  KEYS: variadic: the lock hashes of one lock (one hash slot)
  ARGV[1] owner token
  Returns: 1 when the owner held every lock (all deleted);
           0 when one of them no longer existed; -1 when another owner holds
           one. In both cases the locks the owner still held are deleted.
  Errors: none
]]
local owner = ARGV[1]
local result = 1
for i = 1, #KEYS do
  local holder = redis.call('HGET', KEYS[i], 'owner')
  if holder == owner then
    redis.call('DEL', KEYS[i])
  elseif not holder then
    if result == 1 then result = 0 end
  else
    result = -1
  end
end
return result
