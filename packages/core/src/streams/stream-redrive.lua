--[[
  Publishes a dead-lettered entry's original fields to the stream again (as a
  new entry) and deletes it from the dead-letter stream.

  KEYS[1] stream   KEYS[2] dead-letter stream
  ARGV[1] dead-letter entry id
  Returns: the new entry id, or false when there is no such dead letter
  Errors: none
]]
local entry = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1])
if not entry[1] then return false end
local args = { 'XADD', KEYS[1], '*' }
local fields = entry[1][2]
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 6) == 'field:' then
    args[#args + 1] = string.sub(fields[i], 7)
    args[#args + 1] = fields[i + 1]
  end
end
if #args == 3 then return false end
local id = redis.call(unpack(args))
redis.call('XDEL', KEYS[2], ARGV[1])
return id
