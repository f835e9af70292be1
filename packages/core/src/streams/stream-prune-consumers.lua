--[[
  Deletes consumers of a group that have no pending entries and have been
  idle for at least the given time, so XINFO CONSUMERS stays bounded when
  processes come and go. Checked and deleted in one step: a consumer with
  pending entries is never deleted (that would orphan its entries).

  KEYS[1] stream
  ARGV[1] group   ARGV[2] min idle ms   ARGV[3] consumer to spare ('' none)
  ARGV[4] only this consumer ('' any)
  Returns: { deleted consumer names }
  Errors: none
]]
local deleted = {}
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  local name = f['name']
  if tonumber(f['pending']) == 0 and tonumber(f['idle']) >= tonumber(ARGV[2]) and name ~= ARGV[3]
    and (ARGV[4] == '' or ARGV[4] == name) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    deleted[#deleted + 1] = name
  end
end
return deleted
