--[[
  Claims an idempotency key for one request, or reports the record the key
  already has. One script, so two concurrent duplicates can never both claim.
  The fingerprint is compared before the state, so a different request with
  the key is a mismatch whether the first one is in flight or done.

  KEYS[1]: the record (hash: state, fp, owner, created; when done also
           status, headers, body, stored, completed)
  ARGV[1]: owner token of this request (128 random bits, hex)
  ARGV[2]: request fingerprint
  ARGV[3]: in-progress lease in ms (the record's TTL until it completes)
  Returns:
    { 'claimed' }                              the caller owns the key; run the handler
    { 'mismatch', state }                      another request used this key
    { 'running', pttl }                        the first request is in flight; pttl = ms left of its lease
    { 'done', status, headers, body, stored }  completed; headers is a JSON list of [name, value]
  Errors: none
]]
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HSET', KEYS[1], 'state', 'running', 'fp', ARGV[2], 'owner', ARGV[1], 'created', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return { 'claimed' }
end
if redis.call('HGET', KEYS[1], 'fp') ~= ARGV[2] then
  return { 'mismatch', state }
end
if state == 'running' then
  return { 'running', redis.call('PTTL', KEYS[1]) }
end
local r = redis.call('HMGET', KEYS[1], 'status', 'headers', 'body', 'stored')
return { 'done', r[1], r[2], r[3], r[4] }
