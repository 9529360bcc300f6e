--[[
  Claims a list nonce and reads one page of an index with each listed secret's metadata.

  KEYS[1]  nonce key
  KEYS[2]  index sorted set (every key, or the keys one slug can see), all scores 0
  ARGV[1]  nonce time-to-live in milliseconds
  ARGV[2]  lower lex bound ("[prefix" or "(cursor")
  ARGV[3]  upper lex bound ("[prefix\xff" or "+")
  ARGV[4]  how many entries to read (page size + 1, to learn whether more follow)
  ARGV[5]  record key prefix; records share the index's hash tag, hence its slot

  Returns 0 when the nonce was already used; otherwise {keys, records} where records[i]
  is keys[i]'s record packed without its value (record.lua's pack), or false if absent.
]]
--- @include "record"
if not redis.call('SET', KEYS[1], 'r', 'NX', 'PX', ARGV[1]) then
  return 0
end
local keys = redis.call('ZRANGEBYLEX', KEYS[2], ARGV[2], ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
local records = {}
for i = 1, #keys do
  local hash = ARGV[5] .. keys[i]
  local head = load_head(hash)
  if head then
    records[i] = pack(head, version_parts(hash, head[1], false))
  else
    records[i] = false
  end
end
return { keys, records }
