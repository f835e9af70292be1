--[[
  Counts events in a sliding window: adds to the bucket of the current Redis
  time and returns the buckets a read needs, in one round trip.

  The counter is one hash: field = bucket index (floor(ms / width)), value =
  events in that bucket. Fields older than the window are deleted once the
  hash holds more than buckets + 1 fields, so it never holds more than
  buckets + 2. The key expires (buckets + 1) * width after the last write,
  when no bucket of it can matter to a read any more.

  KEYS[1]: the counter's hash
  ARGV[1]: bucket width in ms (integer)
  ARGV[2]: number of buckets in the window (integer)
  ARGV[3]: amount to add (positive integer)
  Returns: { now (Redis ms), count of bucket b - n, ..., count of bucket b }
           where b is the current bucket and n the number of buckets:
           n + 1 counts, oldest first; the oldest lies partly outside the window
  Errors: Redis's own when the key holds another type
]]
--@include window-clock.inc.lua

redis.call('HINCRBY', KEYS[1], string.format('%.0f', b), ARGV[3])
redis.call('PEXPIRE', KEYS[1], width * (n + 1))

if redis.call('HLEN', KEYS[1]) > n + 1 then
  local stale = {}
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if tonumber(field) < b - n then stale[#stale + 1] = field end
  end
  if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
end

--@include window-series.inc.lua
