--[[
  Claims a nonce and reads a secret's record (without its value) and the stamps of its
  kept versions, newest first. Nothing is returned to a caller that may not read it
  (pre-filter; the worker decides again on the MAC-checked record).

  KEYS[1]  nonce key
  KEYS[2]  record hash
  ARGV[1]  nonce time-to-live in milliseconds
  ARGV[2]  caller slug
  ARGV[3]  '1' when the caller is an administrator, else ''

  Returns 0 when the nonce was already used; otherwise {record or false, stamps} where
  stamps holds "n stamp" for every kept version below the current one, newest first.
]]
--- @include "record"
if not redis.call('SET', KEYS[1], 'r', 'NX', 'PX', ARGV[1]) then
  return 0
end
local head = load_head(KEYS[2])
if not head or not sees(head[2], ARGV[2], ARGV[3] == '1') then
  return { false, {} }
end
local stamps = {}
if may_read(head[2], ARGV[2], ARGV[3] == '1') then
  for n = tonumber(head[1]) - 1, 1, -1 do
    local u = redis.call('HGET', KEYS[2], 'u' .. n)
    if not u then break end
    stamps[#stamps + 1] = n .. ' ' .. u
  end
end
return { pack(head, version_parts(KEYS[2], head[1], false)), stamps }
