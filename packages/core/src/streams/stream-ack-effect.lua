--[[
  Applies a handler's Redis effect and acknowledges its entry in one atomic
  step, so the effect happens once per group however often the entry is
  delivered: if the entry is no longer pending in the group (a duplicate
  delivery already did it), nothing is written.
  Redis does not roll a script back: if an effect command fails (wrong type),
  the commands before it stay applied and the entry is NOT acknowledged.

  KEYS: variadic. KEYS[1] stream; KEYS[2..] effect keys, all in the stream's
  hash slot
  ARGV[1] group   ARGV[2] entry id   ARGV[3] number of commands
  ARGV[4..] per command: name, index of its key in KEYS, argument count, arguments...
  Returns: { 1, { reply per command } } applied, or { 0 } when the entry was not pending
  Errors: the error of a failing effect command
]]
local stream, group, id = KEYS[1], ARGV[1], ARGV[2]
local p = redis.call('XPENDING', stream, group, id, id, 1)
if not p[1] then return { 0 } end
local replies = {}
local i = 4
for _ = 1, tonumber(ARGV[3]) do
  local call = { ARGV[i], KEYS[tonumber(ARGV[i + 1])] }
  local n = tonumber(ARGV[i + 2])
  for j = 1, n do call[#call + 1] = ARGV[i + 2 + j] end
  i = i + 3 + n
  local reply = redis.call(unpack(call))
  if type(reply) == 'table' and reply.ok then reply = reply.ok end
  replies[#replies + 1] = reply
end
redis.call('XACK', stream, group, id)
return { 1, replies }
