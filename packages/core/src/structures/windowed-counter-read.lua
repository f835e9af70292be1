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
--@include window-clock.inc.lua

--@include window-series.inc.lua
