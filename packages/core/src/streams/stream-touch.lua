--[[
  For a consumer's entries that are still pending in its name: sets their idle
  time (XCLAIM ... IDLE ms JUSTID, which leaves the delivery count alone).
  With 0 this is the heartbeat of a handler that runs long, so no other
  consumer takes its entry; with a large value it releases entries on
  shutdown, so the next XAUTOCLAIM of any consumer takes them at once.
  Entries no longer this consumer's (claimed by another, acknowledged) are
  left alone and returned.

  KEYS[1] stream
  ARGV[1] group   ARGV[2] consumer   ARGV[3] idle time to set, in ms
  ARGV[4..] entry ids
  Returns: { ids no longer pending for this consumer }
  Errors: none
]]
local lost = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'IDLE', ARGV[3], 'JUSTID')
  else
    lost[#lost + 1] = id
  end
end
return lost
