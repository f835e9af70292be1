-- Shared by the rate-limit scripts: the server clock (TIME, never the
-- caller's) as now_us in microseconds and now in ms, and exact integer
-- division (operands stay below 2^53).
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now = math.floor(now_us / 1000)

local function div_floor(a, b)
  local q = math.floor(a / b)
  while q * b > a do q = q - 1 end
  while (q + 1) * b <= a do q = q + 1 end
  return q
end
