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

  Returns: { now in microseconds, 1 if admitted else 0, then six integers per
             policy: 1 if it admits else 0, remaining, reset ms (until at least
             one more unit is available; 0 when full), retry ms (until the
             request's cost fits; 0 when it fits), receipt (fixed window: the
             window's PEXPIRETIME; sliding window: the window index; else 0),
             block ms left (0: not blocked) }
  Errors: none (arguments are validated by the caller)
]]
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now = math.floor(now_us / 1000)
local mode = ARGV[1]
local cost = tonumber(ARGV[2])
local charge_rejected = ARGV[3] == '1'
local lease_id = ARGV[4]
local lease_ttl = tonumber(ARGV[5])
local n = #KEYS / 2

local function fmt(x)
  return string.format('%.0f', x)
end

-- Exact integer division (operands stay below 2^53).
local function div_floor(a, b)
  local q = math.floor(a / b)
  while q * b > a do q = q - 1 end
  while (q + 1) * b <= a do q = q + 1 end
  return q
end

local function div_ceil(a, b)
  return -div_floor(-a, b)
end

-- Sliding window (weighted two-window counter), usage scaled by W:
-- used(e) = p * (W - e) + c * W. Ms until `need` units fit.
local function sliding_wait(p, c, e, W, L, need)
  local deficit = p * (W - e) + c * W - (L - need) * W
  if deficit <= 0 then return 0 end
  if p > 0 then
    local d = div_ceil(deficit, p)
    if e + d <= W then return d end
  end
  -- In the next window the current count becomes the previous one.
  local over = c - (L - need)
  local e2 = 0
  if over > 0 then e2 = div_ceil(over * W, c) end
  return (W - e) + e2
end

-- Ms until a request of `cost` fits one policy, with or without this request's charge.
local function wait(s, charged)
  local W, L = s.W, s.L
  if s.algo == 1 then
    if s.pt > 0 then return s.pt end
    return W
  elseif s.algo == 2 then
    local c = s.c
    if charged then c = c + cost end
    return sliding_wait(s.p, c, s.e, W, L, cost)
  elseif s.algo == 3 then
    local tk = s.tk
    if charged then tk = tk - cost * W end
    return div_ceil(cost * W - tk, L)
  elseif s.algo == 4 then
    local tat = s.tat
    if charged then tat = tat + cost * s.T end
    return div_ceil(tat + cost * s.T - s.tol - now_us, 1000)
  end
  return s.B
end

local policies = {}
local admitted = true
local lease_need = 1
if cost == 0 then lease_need = 0 end

for i = 1, n do
  local b = 5 + (i - 1) * 5
  local s = {
    algo = tonumber(ARGV[b + 1]),
    L = tonumber(ARGV[b + 2]),
    W = tonumber(ARGV[b + 3]),
    B = tonumber(ARGV[b + 4]),
    block = tonumber(ARGV[b + 5]),
    k = KEYS[2 * i - 1],
    bk = KEYS[2 * i],
    ok = true,
    blocked = 0,
    retry = 0,
  }
  if s.block > 0 and mode ~= 'penalty' then
    local pb = redis.call('PTTL', s.bk)
    if pb > 0 then s.blocked = pb end
  end
  local L, W = s.L, s.W
  if s.algo == 1 then
    s.v = tonumber(redis.call('GET', s.k) or '0')
    -- Ms left in the window, on the same clock as `now` (the window's end
    -- is set with PXAT from TIME, so PTTL's own clock is never mixed in).
    s.pt = redis.call('PEXPIRETIME', s.k)
    if s.pt > 0 then s.pt = s.pt - now end
    -- No expiry (or none left): the window is over; a new one starts.
    if s.pt <= 0 then s.v = 0 end
    s.ok = s.v + cost <= L
    if not s.ok then s.retry = wait(s, false) end
  elseif s.algo == 2 then
    s.idx = math.floor(now / W)
    s.e = now - s.idx * W
    local h = redis.call('HMGET', s.k, 'w', 'c', 'p')
    local sw = tonumber(h[1])
    s.c = tonumber(h[2]) or 0
    s.p = tonumber(h[3]) or 0
    if sw == nil then
      s.c, s.p = 0, 0
    elseif sw == s.idx - 1 then
      s.p, s.c = s.c, 0
    elseif sw ~= s.idx then
      s.c, s.p = 0, 0
    end
    s.ok = s.p * (W - s.e) + (s.c + cost) * W <= L * W
    if not s.ok then s.retry = wait(s, false) end
  elseif s.algo == 3 then
    s.cap = s.B * W
    local h = redis.call('HMGET', s.k, 'tk', 'ts')
    local tk = tonumber(h[1])
    local ts = tonumber(h[2])
    if tk == nil or ts == nil then
      tk = s.cap
    else
      local elapsed = now - ts
      if elapsed > 0 then
        if elapsed >= div_ceil(s.cap - tk, L) then tk = s.cap else tk = tk + elapsed * L end
      end
      if tk > s.cap then tk = s.cap end
    end
    s.tk = tk
    s.ok = tk >= cost * W
    if not s.ok then s.retry = wait(s, false) end
  elseif s.algo == 4 then
    s.T = math.floor(W * 1000 / L)
    s.tol = s.B * s.T
    local tat = tonumber(redis.call('GET', s.k) or '0')
    if tat < now_us then tat = now_us end
    s.tat = tat
    local allow_at = tat + cost * s.T - s.tol
    s.ok = allow_at <= now_us
    if not s.ok then s.retry = wait(s, false) end
  else
    if mode == 'consume' then redis.call('ZREMRANGEBYSCORE', s.k, '-inf', now) end
    s.held = redis.call('ZCOUNT', s.k, '(' .. now, '+inf')
    s.ok = s.held + lease_need <= L
    if not s.ok then s.retry = wait(s, false) end
  end
  if s.blocked > 0 then
    s.ok = false
    if s.blocked > s.retry then s.retry = s.blocked end
  end
  if not s.ok then admitted = false end
  policies[i] = s
end

local charge
if mode == 'peek' then
  charge = false
elseif mode == 'penalty' then
  charge = true
else
  charge = admitted or charge_rejected
end
if cost == 0 then charge = false end

-- Remaining and reset of one policy, with or without this request's charge.
local function view(s, charged)
  local L, W = s.L, s.W
  if s.algo == 1 then
    local c = s.v
    if charged then c = c + cost end
    local rem = L - c
    if rem < 0 then rem = 0 end
    local reset = 0
    if c > 0 then
      if s.pt > 0 then reset = s.pt else reset = W end
    end
    return rem, reset
  elseif s.algo == 2 then
    local c = s.c
    if charged then c = c + cost end
    local rem = div_floor(L * W - s.p * (W - s.e) - c * W, W)
    if rem < 0 then rem = 0 end
    local reset = 0
    if rem < L then reset = sliding_wait(s.p, c, s.e, W, L, rem + 1) end
    return rem, reset
  elseif s.algo == 3 then
    local tk = s.tk
    if charged then tk = tk - cost * W end
    local rem = div_floor(tk, W)
    if rem < 0 then rem = 0 end
    local reset = 0
    if tk < s.cap then reset = div_ceil((rem + 1) * W - tk, L) end
    return rem, reset
  elseif s.algo == 4 then
    local nt = s.tat
    if charged then nt = nt + cost * s.T end
    local rem = div_floor(now_us + s.tol - nt, s.T)
    if rem < 0 then rem = 0 end
    if rem > s.B then rem = s.B end
    local reset = 0
    if rem < s.B then reset = div_ceil(nt - s.tol + (rem + 1) * s.T - now_us, 1000) end
    return rem, reset
  else
    local held = s.held
    if charged then held = held + 1 end
    local rem = L - held
    if rem < 0 then rem = 0 end
    return rem, 0
  end
end

local out = { now_us, admitted and 1 or 0 }
for i = 1, n do
  local s = policies[i]
  local charged = false
  local receipt = 0
  if charge then
    if s.algo == 1 then
      if s.pt > 0 then
        redis.call('INCRBY', s.k, cost)
      else
        redis.call('SET', s.k, s.v + cost, 'PXAT', now + s.W)
      end
      receipt = redis.call('PEXPIRETIME', s.k)
      charged = true
    elseif s.algo == 2 then
      redis.call('HSET', s.k, 'w', s.idx, 'c', s.c + cost, 'p', s.p)
      redis.call('PEXPIREAT', s.k, (s.idx + 2) * s.W)
      receipt = s.idx
      charged = true
    elseif s.algo == 3 then
      local tk = s.tk - cost * s.W
      redis.call('HSET', s.k, 'tk', fmt(tk), 'ts', fmt(now))
      local ttl = div_ceil(s.cap - tk, s.L)
      if ttl < 1 then ttl = 1 end
      redis.call('PEXPIRE', s.k, ttl)
      charged = true
    elseif s.algo == 4 then
      local nt = s.tat + cost * s.T
      local ttl = div_ceil(nt - now_us, 1000)
      if ttl < 1 then ttl = 1 end
      redis.call('SET', s.k, fmt(nt), 'PX', ttl)
      charged = true
    elseif admitted and mode == 'consume' then
      redis.call('ZADD', s.k, now + lease_ttl, lease_id)
      if redis.call('PTTL', s.k) < lease_ttl then redis.call('PEXPIRE', s.k, lease_ttl) end
      charged = true
    end
  end
  -- Penalty mode charged a rejected request: its wait grows with the charge.
  if charged and not s.ok and s.blocked == 0 then s.retry = wait(s, true) end
  local blocked = s.blocked
  if mode == 'consume' and not admitted and not s.ok and s.blocked == 0 and s.block > 0 then
    redis.call('SET', s.bk, '1', 'PX', s.block)
    if s.block > s.retry then s.retry = s.block end
    blocked = s.block
  end
  local rem, reset = view(s, charged)
  if not s.ok then
    rem = 0
    if s.algo ~= 5 and s.blocked == 0 then
      -- What is left, even if it is less than this request's cost.
      rem = view(s, charged)
    end
    reset = s.retry
  end
  out[#out + 1] = s.ok and 1 or 0
  out[#out + 1] = rem
  out[#out + 1] = reset
  out[#out + 1] = s.ok and 0 or s.retry
  out[#out + 1] = receipt
  out[#out + 1] = blocked
end
return out
