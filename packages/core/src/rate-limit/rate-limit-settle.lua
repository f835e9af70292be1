--[[
  After a decision: gives quota back (a refund of a skipped request, or a
  reward) and ends or renews concurrency leases. Quota never goes below zero
  used or above capacity, and a key that has expired is never recreated.

  KEYS: variadic; one per policy, its state key (all in one hash slot)
  ARGV[1]: quota action: 'refund' (undo a charge in the window named by each
           policy's receipt, nothing if that window is over), 'reward' (give
           back in the current window), or 'none'
  ARGV[2]: amount in units, an integer >= 0
  ARGV[3]: lease action on concurrency policies: 'release', 'renew' or 'none'
  ARGV[4]: lease id
  ARGV[5]: lease time to live in ms (for 'renew')
  ARGV[6..]: five values per policy, in KEYS order: algorithm (1 fixed window,
             2 sliding window, 3 token bucket, 4 GCRA, 5 concurrency), limit,
             window ms, burst, receipt from the consume script (0: none)

  Returns: the number of policies whose state changed
  Errors: none (arguments are validated by the caller)
]]
--@include rate-limit-clock.inc.lua
local action = ARGV[1]
local amount = tonumber(ARGV[2])
local lease_action = ARGV[3]
local lease_id = ARGV[4]
local lease_ttl = tonumber(ARGV[5])
local changed = 0

local function fmt(x)
  return string.format('%.0f', x)
end

local function div_ceil(a, b)
  return -div_floor(-a, b)
end

for i = 1, #KEYS do
  local b = 5 + (i - 1) * 5
  local algo = tonumber(ARGV[b + 1])
  local L = tonumber(ARGV[b + 2])
  local W = tonumber(ARGV[b + 3])
  local B = tonumber(ARGV[b + 4])
  local receipt = tonumber(ARGV[b + 5])
  local k = KEYS[i]
  if algo == 5 then
    if lease_action == 'release' then
      changed = changed + redis.call('ZREM', k, lease_id)
    elseif lease_action == 'renew' and redis.call('ZSCORE', k, lease_id) then
      redis.call('ZADD', k, now + lease_ttl, lease_id)
      if redis.call('PTTL', k) < lease_ttl then redis.call('PEXPIRE', k, lease_ttl) end
      changed = changed + 1
    end
  elseif action ~= 'none' and amount > 0 then
    if algo == 1 then
      local v = tonumber(redis.call('GET', k) or '0')
      local same = action == 'reward' or receipt == 0 or redis.call('PEXPIRETIME', k) == receipt
      if v > 0 and same then
        local d = amount
        if d > v then d = v end
        redis.call('DECRBY', k, d)
        changed = changed + 1
      end
    elseif algo == 2 then
      local h = redis.call('HMGET', k, 'w', 'c', 'p')
      local sw = tonumber(h[1])
      if sw ~= nil then
        local field
        if action == 'reward' then
          if sw >= math.floor(now / W) - 1 then field = 'c' end
        elseif receipt == sw then
          field = 'c'
        elseif receipt == sw - 1 then
          field = 'p'
        end
        if field then
          local v = tonumber(h[field == 'c' and 2 or 3]) or 0
          local d = amount
          if d > v then d = v end
          if d > 0 then
            redis.call('HINCRBY', k, field, -d)
            changed = changed + 1
          end
        end
      end
    elseif algo == 3 then
      local h = redis.call('HMGET', k, 'tk', 'ts')
      local tk = tonumber(h[1])
      local ts = tonumber(h[2])
      if tk ~= nil and ts ~= nil then
        local cap = B * W
        local elapsed = now - ts
        if elapsed > 0 then
          if elapsed >= div_ceil(cap - tk, L) then tk = cap else tk = tk + elapsed * L end
        end
        tk = tk + amount * W
        if tk >= cap then
          redis.call('DEL', k)
        else
          redis.call('HSET', k, 'tk', fmt(tk), 'ts', fmt(now))
          redis.call('PEXPIRE', k, div_ceil(cap - tk, L))
        end
        changed = changed + 1
      end
    elseif algo == 4 then
      local tat = tonumber(redis.call('GET', k) or '0')
      if tat > now_us then
        local T = math.floor(W * 1000 / L)
        local nt = tat - amount * T
        if nt <= now_us then
          redis.call('DEL', k)
        else
          redis.call('SET', k, fmt(nt), 'PX', div_ceil(nt - now_us, 1000))
        end
        changed = changed + 1
      end
    end
  end
end
return changed
