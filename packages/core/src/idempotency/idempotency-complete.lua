--[[
  Stores the handler's response as the key's completed record, kept for the
  retention period, and wakes requests waiting for it. Written by the owner,
  or after its lease lapsed while nobody else claimed the key (the handler
  did run; its response is the right answer to every retry). Never
  overwrites another owner's claim or a completed record.

  KEYS[1]: the record
  ARGV[1]: owner token
  ARGV[2]: request fingerprint
  ARGV[3]: status
  ARGV[4]: headers (JSON list of [name, value])
  ARGV[5]: body bytes
  ARGV[6]: '1' the response is stored, '0' only the outcome (too large / broken off)
  ARGV[7]: retention in ms
  ARGV[8]: Pub/Sub channel of this key
  Returns: 1 stored, 0 not stored (another owner or already completed)
  Errors: none
]]
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' then return 0 end
if state == 'running' and redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
local created = redis.call('HGET', KEYS[1], 'created')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'done', 'fp', ARGV[2], 'status', ARGV[3], 'headers', ARGV[4],
  'body', ARGV[5], 'stored', ARGV[6], 'created', created or now, 'completed', now)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('PUBLISH', ARGV[8], 'done')
return 1
