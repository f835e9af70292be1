--[[
  Takes entries for one consumer, with their delivery counts, dead-lettering
  (and acknowledging) those already delivered more than maxDeliveries times.
  Two modes:
  - 'own': this consumer's own pending entries after the cursor (on start and
    after a connection error), claimed again (XCLAIM, count + 1), except the
    ids it is still handling (ARGV[9..]).
  - 'idle': entries idle for at least minIdle in any consumer of the group
    (dead or stuck ones), by XAUTOCLAIM following the cursor.

  KEYS[1] stream   KEYS[2] dead-letter stream
  ARGV[1] group    ARGV[2] consumer   ARGV[3] 'own' | 'idle'
  ARGV[4] cursor ('0-0' to start)     ARGV[5] most entries to take
  ARGV[6] min idle ms ('idle' mode)   ARGV[7] max deliveries
  ARGV[8] dead-letter stream max length (approximate)
  ARGV[9..] ids to skip ('own' mode)
  Returns: { next cursor ('0-0' when the pass is complete), { id, deliveries, { field, value, ... } } ..., dead { id, deliveries } ... }
  Errors: none
]]
local stream, group, consumer = KEYS[1], ARGV[1], ARGV[2]
local count = tonumber(ARGV[5])
local maxDeliveries = tonumber(ARGV[7])
local entries, deliveries, nextCursor = {}, {}, '0-0'

if ARGV[3] == 'own' then
  local skip = {}
  for i = 9, #ARGV do skip[ARGV[i]] = true end
  local start = '-'
  if ARGV[4] ~= '0-0' then start = '(' .. ARGV[4] end
  local pending = redis.call('XPENDING', stream, group, start, '+', count, consumer)
  if #pending > 0 then nextCursor = pending[#pending][1] end
  local ids = {}
  for _, p in ipairs(pending) do
    if not skip[p[1]] then
      ids[#ids + 1] = p[1]
      deliveries[p[1]] = tonumber(p[4]) + 1
    end
  end
  if #ids > 0 then
    -- Entries deleted from the stream meanwhile are dropped from the PEL here.
    entries = redis.call('XCLAIM', stream, group, consumer, 0, unpack(ids))
  end
else
  local r = redis.call('XAUTOCLAIM', stream, group, consumer, ARGV[6], ARGV[4], 'COUNT', count)
  nextCursor = r[1]
  entries = r[2]
  for _, e in ipairs(entries) do
    local p = redis.call('XPENDING', stream, group, e[1], e[1], 1)
    deliveries[e[1]] = tonumber(p[1][4])
  end
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local alive, dead = {}, {}
for _, e in ipairs(entries) do
  local id, fields = e[1], e[2]
  local d = deliveries[id]
  if fields and d > maxDeliveries then
    local args = { 'XADD', KEYS[2], 'MAXLEN', '~', ARGV[8], '*',
      'source-id', id, 'group', group, 'consumer', consumer, 'deliveries', d,
      'error', 'delivered ' .. d .. ' times without being acknowledged (consumers lost or stuck)',
      'failed-at', now }
    for i = 1, #fields, 2 do
      args[#args + 1] = 'field:' .. fields[i]
      args[#args + 1] = fields[i + 1]
    end
    redis.call(unpack(args))
    redis.call('XACK', stream, group, id)
    dead[#dead + 1] = { id, d }
  elseif fields then
    alive[#alive + 1] = { id, d, fields }
  end
end
return { nextCursor, alive, dead }
