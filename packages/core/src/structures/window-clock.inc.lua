-- Shared preamble of the windowed-counter scripts (included by gen-lua).
-- ARGV[1]: bucket width in ms (integer); ARGV[2]: number of buckets in the
-- window (integer). Defines: now (server ms, from TIME), width, n, b (index
-- of the current bucket, floor(now / width)).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local width = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local b = math.floor(now / width)
