--[[
  Moves a poison entry to the dead-letter stream with its id, group,
  consumer, delivery count and error, and acknowledges it, in one step. Does
  nothing when the entry is no longer pending in the group (another consumer
  acknowledged it).

  KEYS[1] stream   KEYS[2] dead-letter stream
  ARGV[1] group    ARGV[2] consumer   ARGV[3] entry id   ARGV[4] deliveries
  ARGV[5] error message   ARGV[6] dead-letter stream max length (approximate)
  Returns: the dead-letter entry id, or false when the entry was not pending
  Errors: none
]]
local stream, group, id = KEYS[1], ARGV[1], ARGV[3]
local entry = redis.call('XRANGE', stream, id, id)
if redis.call('XACK', stream, group, id) == 0 then return false end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local args = { 'XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*',
  'source-id', id, 'group', group, 'consumer', ARGV[2], 'deliveries', ARGV[4],
  'error', ARGV[5], 'failed-at', now }
if entry[1] then
  local fields = entry[1][2]
  for i = 1, #fields, 2 do
    args[#args + 1] = 'field:' .. fields[i]
    args[#args + 1] = fields[i + 1]
  end
end
return redis.call(unpack(args))
