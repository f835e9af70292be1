--[[
  Renews the in-progress lease of a claimed key, only for its owner and only
  while it is in progress (never re-creates a lapsed record).

  KEYS[1]: the record
  ARGV[1]: the owner's in-progress record, as its claim wrote it
  ARGV[2]: lease in ms
  Returns: 1 renewed, 0 the caller no longer owns an in-progress record
  Errors: none
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
