--[[
  Claims a list nonce and reads one page of an index with each listed secret's metadata,
  within a byte budget decided entry by entry before the reply is built: the page ends
  early (with more to follow) at the first entry that would exceed it, so no list makes
  Redis build or hold more than its budget (docs/protocol.md §15).

  KEYS[1]  nonce key
  KEYS[2]  index sorted set (every key, or the keys one slug can see), all scores 0
  ARGV[1]  nonce time-to-live in milliseconds
  ARGV[2]  lower lex bound ("[prefix" or "(cursor")
  ARGV[3]  upper lex bound ("[prefix\xff" or "+")
  ARGV[4]  page size: at most this many entries
  ARGV[5]  record key prefix; records share the index's hash tag, hence its slot
  ARGV[6]  byte budget of the page (record.lua's metadata_size per entry)

  Returns 0 when the nonce was already used; {2, bytes} when not even the first entry fits
  the budget (bytes: its size; the nonce is not claimed, nothing is returned); otherwise
  {1, keys, records, more, bytes} where records[i] is keys[i]'s record packed without its
  value (record.lua's pack) or false if absent, more is 1 when entries follow the page
  (else 0), and bytes the page's size by the budget's measure.
]]
--- @include "record"
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local limit, budget = tonumber(ARGV[4]), tonumber(ARGV[6])
-- One name beyond the page tells whether more follow; names alone are small.
local names = redis.call('ZRANGEBYLEX', KEYS[2], ARGV[2], ARGV[3], 'LIMIT', 0, limit + 1)
local keys, records = {}, {}
local total = 0
local more = 0
for i = 1, math.min(#names, limit) do
  local hash = ARGV[5] .. names[i]
  local head = load_head(hash)
  local size = head and metadata_size(names[i], head) or string.len(names[i])
  if total + size > budget then
    if i == 1 then return { 2, size } end
    more = 1
    break
  end
  total = total + size
  keys[i] = names[i]
  if head then
    records[i] = pack(head, version_parts(hash, head[1], false))
  else
    records[i] = false
  end
end
if more == 0 and #names > limit then more = 1 end
redis.call('SET', KEYS[1], 'r', 'PX', ARGV[1])
return { 1, keys, records, more, total }
