--[[
  Reads the change log after a revision (docs/protocol.md §14), optionally claiming a
  request's nonce first, in one round trip. Entries are returned as stored; the store
  checks each one's MAC (src/store/changes.ts).

  KEYS[1]     change log (sorted set, score = revision)
  KEYS[2]     revision counter
  KEYS[3]     optional: nonce key to claim (per caller key and nonce)
  ARGV[1]     since: entries with a larger revision are returned
  ARGV[2]     at most this many entries
  ARGV[3]     nonce time-to-live in milliseconds (with KEYS[3])

  Returns 0 when the nonce was already used (nothing is read); otherwise
  {newest, oldest, entries}: the newest revision (0 before any change), the revision of
  the oldest entry kept (0 when the log is empty), and the entries after since in
  ascending revision, flat: member, revision, member, revision, …
]]
if KEYS[3] and not redis.call('SET', KEYS[3], 'r', 'NX', 'PX', ARGV[3]) then
  return 0
end
local newest = tonumber(redis.call('GET', KEYS[2]) or '0')
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local oldest = 0
if first[2] then oldest = tonumber(first[2]) end
local entries = {}
if tonumber(ARGV[1]) < newest then
  entries = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
end
return { newest, oldest, entries }
