--[[
  Reads every revocation entry in the order made, with the revision they were read at,
  in one consistent step (a worker's set is never half of one revision). With KEYS[4]
  it first claims a read nonce (the `revocations` op), like read.lua.

  KEYS[1]  the entries in the order made (sorted set, see revoke.lua)
  KEYS[2]  the entries (hash, see revoke.lua)
  KEYS[3]  revision counter
  KEYS[4]  nonce key (optional)
  ARGV[1]  nonce time-to-live in milliseconds (with KEYS[4])

  Returns 0 when the nonce was already used (nothing is read); otherwise
  {revision, outcomes}: the revision (0 before any change) and each entry's stored
  revoke outcome, in the order made.
]]
if KEYS[4] and not redis.call('SET', KEYS[4], 'r', 'NX', 'PX', ARGV[1]) then
  return 0
end
local revision = tonumber(redis.call('GET', KEYS[3]) or '0')
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local outcomes = {}
for i, member in ipairs(members) do
  outcomes[i] = redis.call('HGET', KEYS[2], member)
end
return { revision, outcomes }
