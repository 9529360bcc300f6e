--[[
  Claims a list nonce and reads one page of an index with each listed secret's metadata.

  KEYS[1]  nonce key
  KEYS[2]  index sorted set (every key, or the keys one slug can see), all scores 0
  ARGV[1]  nonce time-to-live in milliseconds
  ARGV[2]  lower lex bound ("[prefix" or "(cursor")
  ARGV[3]  upper lex bound ("[prefix\xff" or "+")
  ARGV[4]  how many entries to read (page size + 1, to learn whether more follow)
  ARGV[5]  record key prefix; records share the index's hash tag, hence its slot

  Returns 0 when the nonce was already used; otherwise {keys, records} where
  records[i] = {v, a, c, u} of keys[i] (false fields if the record vanished).
]]
if not redis.call('SET', KEYS[1], 'r', 'NX', 'PX', ARGV[1]) then
  return 0
end
local keys = redis.call('ZRANGEBYLEX', KEYS[2], ARGV[2], ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
local records = {}
for i = 1, #keys do
  records[i] = redis.call('HMGET', ARGV[5] .. keys[i], 'v', 'a', 'c', 'u')
end
return { keys, records }
