--[[
  Stores the handler's response as the key's done record, kept for the
  retention period, and wakes requests waiting for it. Written by the owner,
  or after its lease lapsed while nobody else claimed the key (the handler
  did run; its response is the right answer to every retry). Never
  overwrites another owner's claim or a done record.

  KEYS[1]: the record
  ARGV[1]: the owner's in-progress record, as its claim wrote it
  ARGV[2]: the done record up to its body (record.ts)
  ARGV[3]: body bytes
  ARGV[4]: retention in ms
  ARGV[5]: Pub/Sub channel of this key
  Returns: 1 stored, 0 not stored (another owner or already done)
  Errors: none
]]
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2] .. ARGV[3], 'PX', ARGV[4])
redis.call('PUBLISH', ARGV[5], 'done')
return 1
