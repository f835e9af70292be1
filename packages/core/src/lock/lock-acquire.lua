--[[
  Takes the locks on every resource of one hash tag for one owner, all or
  none, and issues a fencing token in the same step; or reports that another
  owner holds one of them.

  A retry by the same owner (its earlier reply was lost on the way back) finds
  its own token: it counts as taken, the ttl is refreshed and the fencing token
  issued the first time is returned, so an owner never blocks itself.

  Fencing tokens come from one counter per hash tag: the next token is
  max(last token + 1, server time in microseconds). The counter therefore only
  ever grows while it exists, and when it has expired (it keeps for the
  retention after the last acquire) the server clock still puts the next token
  above every earlier one, unless the clock went back by more than the
  retention.

  When the caller will wait (ARGV[4]), a lock another owner holds gets the
  field `waiting`, so that its release wakes the waiters (lock-release.lua
  publishes only then).

  KEYS: variadic. KEYS[1] the fencing counter of the hash tag; KEYS[2..n] one
        lock hash per resource (fields owner, fence, waiting), all in one hash slot.
  ARGV[1] owner token
  ARGV[2] ttl in ms
  ARGV[3] how long the fencing counter is kept after the last acquire, in ms
  ARGV[4] '1' when the caller waits for the lock if it is held (optional)
  Returns: { 1, fence, recovered } when the owner now holds every lock;
           recovered is 1 when it already held them (a retried acquire).
           { 0, pttl } when another owner holds one; pttl is that lock's
           remaining time in ms (-1 if it has none).
  Errors: none (WRONGTYPE if a lock key was overwritten by something else)
]]
local owner = ARGV[1]
local ttl = tonumber(ARGV[2])
local fence = false
for i = 2, #KEYS do
  local held = redis.call('HMGET', KEYS[i], 'owner', 'fence')
  if held[1] then
    if held[1] ~= owner then
      if ARGV[4] == '1' then redis.call('HSET', KEYS[i], 'waiting', '1') end
      return { 0, redis.call('PTTL', KEYS[i]) }
    end
    fence = fence or held[2]
  end
end
local recovered = 1
if not fence then
  recovered = 0
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local last = tonumber(redis.call('GET', KEYS[1]) or '0')
  fence = string.format('%.0f', math.max(last + 1, now))
  redis.call('SET', KEYS[1], fence, 'PX', math.max(tonumber(ARGV[3]), ttl))
end
for i = 2, #KEYS do
  redis.call('HSET', KEYS[i], 'owner', owner, 'fence', fence)
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return { 1, tonumber(fence), recovered }
