--[[
  Claims a read nonce and fetches secret records, in one round trip. Visibility and the
  read right are pre-filtered here (the worker decides again on the MAC-checked record):
  an invisible record costs what an absent one does, and a value is fetched only for a
  caller that may read it. The reply's size is decided from the stored sizes first: a
  read over its budget claims nothing and builds nothing, so the worker may ask again
  with a budget that fits (docs/protocol.md §15: no reply beyond the caller's budget).

  KEYS[1]     nonce key (per caller key and nonce)
  KEYS[2..n]  record hashes to fetch
  ARGV[1]     nonce time-to-live in milliseconds
  ARGV[2]     caller slug
  ARGV[3]     '1' when the caller is an administrator, else ''
  ARGV[4]     byte budget of the values to return (0: none)
  ARGV[5]     version to read ('' for the current one; only with one record)

  Returns 0 when the nonce was already used (nothing is read); {2, bytes} when the values
  would exceed the budget (the nonce is not claimed, nothing is returned); otherwise
  {1, records, old, bytes} where
  records[i] is the packed record (record.lua's pack; without its value when the caller
  may not read it) or false when absent or not visible, and old is version ARGV[5]
  packed as "u\n" .. h .. b, or false when not kept (or not asked for), and bytes the
  size estimate the budget was checked against.
]]
--- @include "record"
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local slug, admin, budget = ARGV[2], ARGV[3] == '1', tonumber(ARGV[4])
local want = tonumber(ARGV[5])
local heads, readable = {}, {}
local total = 0
for i = 2, #KEYS do
  local head = load_head(KEYS[i])
  if head and sees(head[2], slug, admin) then
    heads[i] = head
    total = total + metadata_size(KEYS[i], head)
    if may_read(head[2], slug, admin) then
      readable[i] = true
      local n = want or head[1]
      total = total + redis.call('HSTRLEN', KEYS[i], 'b' .. n)
    end
  end
end
if budget > 0 and total > budget then
  return { 2, total }
end
redis.call('SET', KEYS[1], 'r', 'PX', ARGV[1])
local records = {}
local old = false
for i = 2, #KEYS do
  local head = heads[i]
  if head then
    local current = want == nil or tonumber(head[1]) == want
    local u, h, b = version_parts(KEYS[i], head[1], readable[i] and current)
    records[i - 1] = pack(head, u, h, b)
    if readable[i] and not current then
      local ou, oh, ob = version_parts(KEYS[i], want, true)
      if ou then old = ou .. '\n' .. oh .. ob end
    end
  else
    records[i - 1] = false
  end
end
return { 1, records, old, total }
