--[[
  Reads a sliding-window counter (see windowed-counter-add.lua) at the
  current Redis time.

  KEYS[1]: the counter's hash
  ARGV[1]: bucket width in ms (integer)
  ARGV[2]: number of buckets in the window (integer)
  Returns: { now (Redis ms), count of bucket b - n, ..., count of bucket b },
           n + 1 counts, oldest first
  Errors: Redis's own when the key holds another type
  read-only
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local width = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local b = math.floor(now / width)

local fields = {}
for i = b - n, b do fields[#fields + 1] = string.format('%.0f', i) end
local values = redis.call('HMGET', KEYS[1], unpack(fields))
local out = { now }
for i = 1, #values do out[i + 1] = tonumber(values[i]) or 0 end
return out
