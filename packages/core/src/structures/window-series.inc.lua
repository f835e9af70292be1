-- Shared ending of the windowed-counter scripts (included by gen-lua, after
-- window-clock.inc.lua): returns { now, count of bucket b - n, ..., count of
-- bucket b }, n + 1 counts, oldest first, read from the hash KEYS[1].
local fields = {}
for i = b - n, b do fields[#fields + 1] = string.format('%.0f', i) end
local values = redis.call('HMGET', KEYS[1], unpack(fields))
local out = { now }
for i = 1, #values do out[i + 1] = tonumber(values[i]) or 0 end
return out
