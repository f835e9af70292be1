--[[
  Removes index entries the caller found dead (or owned by another user),
  each only if its score is still the one the caller read: an entry that a
  save re-added meanwhile has a new score and stays.

  KEYS[1] owner's index (sorted set: member session id, score bound ms)
  ARGV: variadic pairs { id, score read, id, score read, ... }
  Returns: number of entries removed
  Errors: none
]]
local removed = 0
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed
