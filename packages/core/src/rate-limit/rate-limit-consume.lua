--[[
  Decides one request against one or more rate-limit policies in one step.
  Every policy is evaluated first; only when all of them admit the request
  is any of them charged (all or nothing). Time comes from TIME, never from
  the caller. Integer arithmetic throughout: token buckets keep tokens scaled
  by the window (one token = window units, refill = limit units per ms) and
  GCRA keeps its theoretical arrival time in microseconds, so decisions are
  exact and reproducible.

  KEYS: variadic; two per policy, all in one hash slot: the policy's state key, then its block key
  ARGV[1]: mode: 'consume' (decide and charge), 'peek' (decide, write nothing),
           'penalty' (charge every policy without deciding)
  ARGV[2]: cost, an integer >= 0; 0 is a peek (concurrency policies take one lease per request)
  ARGV[3]: '1' to charge a rejected request anyway (penalty mode), else '0'
  ARGV[4]: lease id (concurrency policies)
  ARGV[5]: lease time to live in ms (concurrency policies)
  ARGV[6..]: five values per policy, in KEYS order: algorithm (1 fixed window,
             2 sliding window, 3 token bucket, 4 GCRA, 5 concurrency), limit,
             window ms, burst (token bucket, GCRA; retry hint in ms for
             concurrency), block duration ms (0: no block)

  Returns: { now in microseconds, 1 if admitted else 0, then per policy:
             when rejected, six integers: 1 if it admits else 0, remaining,
             reset ms (until at least one more unit is available; 0 when
             full), retry ms (until the request's cost fits; 0 when it fits),
             receipt (fixed window: the window's PEXPIRETIME; sliding window:
             the window index; else 0), block ms left (0: not blocked);
             when admitted, only remaining, reset ms and receipt (every
             policy admits, with no wait and no block: the other three are
             1, 0 and 0). Every reply element costs the client time to
             parse, and most decisions admit. }
  Errors: none (arguments are validated by the caller)
]]
-- Written for speed: this runs on every request. Redis's Lua interpreter
-- pays for every table, closure and string-to-number conversion, so state
-- lives in one small table per policy created at once, numbers are parsed
-- only when used, and the reply is filled by index.
--@include rate-limit-clock.inc.lua
local mode = ARGV[1]
local cost = tonumber(ARGV[2])
local n = #KEYS / 2

-- Sliding window (weighted two-window counter), usage scaled by W:
-- used(e) = p * (W - e) + c * W. Ms until `need` units fit.
local function sliding_wait(p, c, e, W, L, need)
  local deficit = p * (W - e) + c * W - (L - need) * W
  if deficit <= 0 then return 0 end
  if p > 0 then
    local d = -div_floor(-deficit, p)
    if e + d <= W then return d end
  end
  -- In the next window the current count becomes the previous one.
  local over = c - (L - need)
  local e2 = 0
  if over > 0 then e2 = -div_floor(-over * W, c) end
  return (W - e) + e2
end

-- Ms until a request of `cost` fits one policy, with or without this request's charge.
-- Per algorithm, s.x and s.y hold: fixed window: count, ms left in the window;
-- sliding window: current count, previous count (s.idx, s.e: window index, ms
-- into it); token bucket: tokens x W, capacity x W; GCRA: theoretical arrival
-- time in us, emission interval T in us (s.tol: burst tolerance); concurrency:
-- leases held.
local function wait(s, charged)
  local algo, W, L = s.algo, s.W, s.L
  if algo == 1 then
    if s.y > 0 then return s.y end
    return W
  elseif algo == 2 then
    local c = s.x
    if charged then c = c + cost end
    return sliding_wait(s.y, c, s.e, W, L, cost)
  elseif algo == 3 then
    local tk = s.x
    if charged then tk = tk - cost * W end
    return -div_floor(tk - cost * W, L)
  elseif algo == 4 then
    local tat = s.x
    if charged then tat = tat + cost * s.y end
    return -div_floor(now_us - tat - cost * s.y + s.tol, 1000)
  end
  return s.B
end

-- Remaining and reset of one policy, with or without this request's charge.
local function view(s, charged)
  local algo, L, W = s.algo, s.L, s.W
  if algo == 1 then
    local c = s.x
    if charged then c = c + cost end
    local rem = L - c
    if rem < 0 then rem = 0 end
    local reset = 0
    if c > 0 then
      if s.y > 0 then reset = s.y else reset = W end
    end
    return rem, reset
  elseif algo == 2 then
    local c = s.x
    if charged then c = c + cost end
    local rem = div_floor(L * W - s.y * (W - s.e) - c * W, W)
    if rem < 0 then rem = 0 end
    local reset = 0
    if rem < L then reset = sliding_wait(s.y, c, s.e, W, L, rem + 1) end
    return rem, reset
  elseif algo == 3 then
    local tk = s.x
    if charged then tk = tk - cost * W end
    local rem = div_floor(tk, W)
    if rem < 0 then rem = 0 end
    local reset = 0
    if tk < s.y then reset = -div_floor(tk - (rem + 1) * W, L) end
    return rem, reset
  elseif algo == 4 then
    local nt, T, B = s.x, s.y, s.B
    if charged then nt = nt + cost * T end
    local rem = div_floor(now_us + s.tol - nt, T)
    if rem < 0 then rem = 0 end
    if rem > B then rem = B end
    local reset = 0
    if rem < B then reset = -div_floor(now_us - nt + s.tol - (rem + 1) * T, 1000) end
    return rem, reset
  else
    local held = s.x
    if charged then held = held + 1 end
    local rem = L - held
    if rem < 0 then rem = 0 end
    return rem, 0
  end
end

local policies = {}
local admitted = true

for i = 1, n do
  local b = 5 + (i - 1) * 5
  local algo = tonumber(ARGV[b + 1])
  local L = tonumber(ARGV[b + 2])
  local W = tonumber(ARGV[b + 3])
  local k = KEYS[2 * i - 1]
  local s = { algo = algo, L = L, W = W, B = 0, block = 0, x = 0, y = 0, ok = true, blocked = 0, retry = 0 }
  if ARGV[b + 5] ~= '0' then
    s.block = tonumber(ARGV[b + 5])
    if mode ~= 'penalty' then
      local pb = redis.call('PTTL', KEYS[2 * i])
      if pb > 0 then s.blocked = pb end
    end
  end
  local ok
  if algo == 1 then
    local v = redis.call('GET', k)
    -- Ms left in the window, on the same clock as `now` (the window's end
    -- is set with PXAT from TIME, so PTTL's own clock is never mixed in).
    local pt = redis.call('PEXPIRETIME', k)
    if pt > 0 then pt = pt - now end
    -- No expiry (or none left): the window is over; a new one starts.
    if pt <= 0 or not v then v = 0 else v = tonumber(v) end
    s.x, s.y = v, pt
    ok = v + cost <= L
  elseif algo == 2 then
    local idx = math.floor(now / W)
    local e = now - idx * W
    s.idx, s.e = idx, e
    local h = redis.call('HMGET', k, 'w', 'c', 'p')
    local c, p = 0, 0
    if h[1] then
      local sw = tonumber(h[1])
      if sw == idx then
        c = tonumber(h[2]) or 0
        p = tonumber(h[3]) or 0
      elseif sw == idx - 1 then
        p = tonumber(h[2]) or 0
      end
    end
    s.x, s.y, s.sw = c, p, h[1]
    ok = p * (W - e) + (c + cost) * W <= L * W
  elseif algo == 3 then
    local cap = tonumber(ARGV[b + 4]) * W
    local h = redis.call('HMGET', k, 'tk', 'ts')
    local tk = cap
    if h[1] and h[2] then
      tk = tonumber(h[1])
      local elapsed = now - tonumber(h[2])
      if elapsed > 0 then
        if elapsed >= -div_floor(tk - cap, L) then tk = cap else tk = tk + elapsed * L end
      end
      if tk > cap then tk = cap end
    end
    s.x, s.y = tk, cap
    ok = tk >= cost * W
  elseif algo == 4 then
    local B = tonumber(ARGV[b + 4])
    local T = math.floor(W * 1000 / L)
    local tol = B * T
    local tat = redis.call('GET', k)
    if tat then tat = tonumber(tat) else tat = 0 end
    if tat < now_us then tat = now_us end
    s.B, s.x, s.y, s.tol = B, tat, T, tol
    ok = tat + cost * T - tol <= now_us
  else
    s.B = tonumber(ARGV[b + 4])
    if mode == 'consume' then redis.call('ZREMRANGEBYSCORE', k, '-inf', now) end
    local held = redis.call('ZCOUNT', k, '(' .. now, '+inf')
    s.x = held
    ok = held + (cost == 0 and 0 or 1) <= L
  end
  if not ok then s.retry = wait(s, false) end
  if s.blocked > 0 then
    ok = false
    if s.blocked > s.retry then s.retry = s.blocked end
  end
  if not ok then admitted = false end
  s.ok = ok
  policies[i] = s
end

local charge
if mode == 'peek' then
  charge = false
elseif mode == 'penalty' then
  charge = true
else
  charge = admitted or ARGV[3] == '1'
end
if cost == 0 then charge = false end

local out = { now_us, admitted and 1 or 0 }
local o = 2
for i = 1, n do
  local s = policies[i]
  local algo, k, ok = s.algo, KEYS[2 * i - 1], s.ok
  local charged = false
  local receipt = 0
  if charge then
    charged = true
    if algo == 1 then
      if s.y > 0 then
        redis.call('INCRBY', k, ARGV[2])
        receipt = now + s.y
      else
        receipt = now + s.W
        redis.call('SET', k, s.x + cost, 'PXAT', receipt)
      end
    elseif algo == 2 then
      redis.call('HSET', k, 'w', s.idx, 'c', s.x + cost, 'p', s.y)
      -- The window's expiry is set when the window first writes its index.
      if tonumber(s.sw) ~= s.idx then redis.call('PEXPIREAT', k, (s.idx + 2) * s.W) end
      receipt = s.idx
    elseif algo == 3 then
      local tk = s.x - cost * s.W
      redis.call('HSET', k, 'tk', string.format('%.0f', tk), 'ts', string.format('%.0f', now))
      local ttl = -div_floor(tk - s.y, s.L)
      if ttl < 1 then ttl = 1 end
      redis.call('PEXPIRE', k, ttl)
    elseif algo == 4 then
      local nt = s.x + cost * s.y
      local ttl = -div_floor(now_us - nt, 1000)
      if ttl < 1 then ttl = 1 end
      redis.call('SET', k, string.format('%.0f', nt), 'PX', ttl)
    elseif admitted and mode == 'consume' then
      local lease_ttl = tonumber(ARGV[5])
      redis.call('ZADD', k, now + lease_ttl, ARGV[4])
      if redis.call('PTTL', k) < lease_ttl then redis.call('PEXPIRE', k, lease_ttl) end
    else
      charged = false
    end
  end
  -- Penalty mode charged a rejected request: its wait grows with the charge.
  if charged and not ok and s.blocked == 0 then s.retry = wait(s, true) end
  local blocked = s.blocked
  if mode == 'consume' and not admitted and not ok and blocked == 0 and s.block > 0 then
    redis.call('SET', KEYS[2 * i], '1', 'PX', s.block)
    if s.block > s.retry then s.retry = s.block end
    blocked = s.block
  end
  if admitted then
    local rem, reset = view(s, charged)
    out[o + 1] = rem
    out[o + 2] = reset
    out[o + 3] = receipt
    o = o + 3
  else
    local rem, reset = 0, s.retry
    if ok then
      rem, reset = view(s, charged)
    elseif algo ~= 5 and s.blocked == 0 then
      -- What is left, even if it is less than this request's cost.
      rem = view(s, charged)
    end
    out[o + 1] = ok and 1 or 0
    out[o + 2] = rem
    out[o + 3] = reset
    out[o + 4] = ok and 0 or s.retry
    out[o + 5] = receipt
    out[o + 6] = blocked
    o = o + 6
  end
end
return out
