--[[
  Claims a read nonce and fetches secret records, in one round trip. Visibility and the
  read right are pre-filtered here (the worker decides again on the MAC-checked record):
  an invisible record costs what an absent one does, and a value is fetched only for a
  caller that may read it. The reply's size is decided from the stored sizes first.

  KEYS[1]     nonce key (per caller key and nonce)
  KEYS[2..n]  record hashes to fetch
  ARGV[1]     nonce time-to-live in milliseconds
  ARGV[2]     caller slug
  ARGV[3]     '1' when the caller is an administrator, else ''
  ARGV[4]     byte budget of the values to return (0: none)
  ARGV[5]     version to read ('' for the current one; only with one record)

  Returns 0 when the nonce was already used (nothing is read); {2, bytes} when the values
  would exceed the budget (nothing is returned); otherwise {1, records, old} where
  records[i] is the packed record (record.lua's pack; without its value when the caller
  may not read it) or false when absent or not visible, and old is version ARGV[5]
  packed as "u\n" .. h .. b, or false when not kept (or not asked for).
]]
--- @include "record"
if not redis.call('SET', KEYS[1], 'r', 'NX', 'PX', ARGV[1]) then
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
    if may_read(head[2], slug, admin) then
      readable[i] = true
      local n = want or head[1]
      -- Key length and a margin for the metadata, plus the stored value's size.
      total = total + 256 + string.len(KEYS[i]) + redis.call('HSTRLEN', KEYS[i], 'b' .. n)
    end
  end
end
if budget > 0 and total > budget then
  return { 2, total }
end
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
return { 1, records, old }
