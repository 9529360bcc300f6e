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
  records[i] is "v\na\nc\nu" of keys[i] (none of those fields can hold a newline), or
  false if the record vanished. One string per record keeps a page of 100 cheap to decode.
]]
if not redis.call('SET', KEYS[1], 'r', 'NX', 'PX', ARGV[1]) then
  return 0
end
local keys = redis.call('ZRANGEBYLEX', KEYS[2], ARGV[2], ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
local records = {}
for i = 1, #keys do
  local f = redis.call('HMGET', ARGV[5] .. keys[i], 'v', 'a', 'c', 'u')
  if f[1] then
    records[i] = f[1] .. '\n' .. (f[2] or '') .. '\n' .. (f[3] or '') .. '\n' .. (f[4] or '')
  else
    records[i] = false
  end
end
return { keys, records }
