--[[
  Claims a read nonce and fetches secret records, in one round trip.

  KEYS[1]     nonce key (per caller key and nonce)
  KEYS[2..n]  record hashes to fetch
  ARGV[1]     nonce time-to-live in milliseconds

  Returns 0 when the nonce was already used (nothing is read); otherwise an array
  holding, for each record key in order, {v, a, c, u, h, b} (all false when absent).
]]
if not redis.call('SET', KEYS[1], 'r', 'NX', 'PX', ARGV[1]) then
  return 0
end
local records = {}
for i = 2, #KEYS do
  records[i - 1] = redis.call('HMGET', KEYS[i], 'v', 'a', 'c', 'u', 'h', 'b')
end
return records
