--[[
  Gives up a claimed key so a retry runs the handler again (the handler
  threw, answered a status that is not stored, or its response broke off),
  and wakes requests waiting on it. Only the owner of an in-progress record
  can release it.

  KEYS[1]: the record
  ARGV[1]: the owner's in-progress record, as its claim wrote it
  ARGV[2]: Pub/Sub channel of this key
  Returns: 1 released, 0 not the owner of an in-progress record
  Errors: none
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], 'released')
  return 1
end
return 0
