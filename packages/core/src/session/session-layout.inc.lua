-- The session value, format R1 (session-save.lua describes it; stored-value.ts
-- reads the same layout):
--   R1:<created>:<expires-at>:<deadline or 0>:<bound or 0>:<#owner>:<#cookie>:<#raw id>:<owner><cookie><raw id><data>

-- The eight ':'-ended header fields of a value (f[1] is 'R1'), and the
-- position of the first byte after them (where the owner starts).
local function readHeader(value)
  local f = {}
  local pos = 1
  for n = 1, 8 do
    local stop = string.find(value, ':', pos, true)
    f[n] = string.sub(value, pos, stop - 1)
    pos = stop + 1
  end
  return f, pos
end

local function serverNow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
