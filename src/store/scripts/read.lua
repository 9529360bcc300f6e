--[[
  Claims a read nonce and fetches secret records, in one round trip.

  KEYS[1]     nonce key (per caller key and nonce)
  KEYS[2..n]  record hashes to fetch
  ARGV[1]     nonce time-to-live in milliseconds

  Returns 0 when the nonce was already used (nothing is read); otherwise an array
  holding, for each record key in order, the record packed as "v\na\nc\nu\n" .. h .. b
  (h and b are binary; the text fields never hold a newline), or false when absent.
]]
if not redis.call('SET', KEYS[1], 'r', 'NX', 'PX', ARGV[1]) then
  return 0
end
local records = {}
for i = 2, #KEYS do
  local f = redis.call('HMGET', KEYS[i], 'v', 'a', 'c', 'u', 'h', 'b')
  if f[1] then
    records[i - 1] = f[1] .. '\n' .. (f[2] or '') .. '\n' .. (f[3] or '') .. '\n' .. (f[4] or '') .. '\n' .. (f[5] or '') .. (f[6] or '')
  else
    records[i - 1] = false
  end
end
return records
