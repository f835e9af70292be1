--[[
  Claims an idempotency key for one request, or reports the record the key
  already has: one SET NX GET, so two concurrent duplicates can never both
  claim, and a replay is the one command. Records are strings (record.ts):
  'R' fingerprint owner while in progress, 'D' fingerprint ... when done.

  KEYS[1]: the record
  ARGV[1]: this request's in-progress record ('R' .. fingerprint .. owner token)
  ARGV[2]: in-progress lease in ms (the record's TTL until it completes)
  Returns:
    nil                  claimed: the caller owns the key; run the handler
    record               the key's done record (or one of a different request)
    { record, pttl }     the key is in progress: its record and the ms left of its lease
  Errors: none (WRONGTYPE if the key holds something else)
]]
local prior = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2], 'GET')
if prior and string.byte(prior, 1) == 82 then
  return { prior, redis.call('PTTL', KEYS[1]) }
end
return prior
