--[[
  Reads for several requests at once (the worker batches the reads that arrive together,
  src/store/read-batch.ts): for each, in order, claims its nonce and fetches its records.
  Each request keeps its own outcome: a used nonce, a reply over budget or an error in one
  leaves the others as they would be alone, and a nonce repeated within the batch is
  claimed by the first and refused to the next, as in two calls.

  Visibility and the read right are pre-filtered here (the worker decides again on the
  MAC-checked record): an invisible record costs what an absent one does, and a value is
  fetched only for a caller that may read it. The reply's size is decided from the stored
  sizes first: a read over its budget claims nothing and builds nothing, so the worker may
  ask again with a budget that fits (docs/protocol.md §15: no reply beyond the caller's budget).

  KEYS        per request, in order: its nonce key (per caller key and nonce), then the
              record hashes it reads
  ARGV[1]     the number of requests, n
  ARGV[2..]   per request, 6 values in order:
                number of record hashes it reads (the KEYS after its nonce key)
                nonce time-to-live in milliseconds
                caller slug
                '1' when the caller is an administrator, else ''
                byte budget of the values to return (0: none)
                version to read ('' for the current one; only with one record)

  Returns n results, one per request, in order:
    0                          the nonce was already used (nothing is read)
    {2, bytes}                 the values would exceed the budget (the nonce is not claimed,
                               nothing is returned)
    {3, message}               this request's step failed (an error Redis raised)
    {1, records, old, bytes}   records[i]: the packed record (record.lua's pack; without its
                               value when the caller may not read it) or false when absent
                               or not visible; old: the asked version packed as
                               "u\n" .. h .. b, or false when not kept (or not asked for);
                               bytes: the size estimate the budget was checked against
]]
--- @include "record"

local function read_one(nonce_key, first, last, ttl, slug, admin, budget, want)
  -- Claimed first (one command instead of a look and a claim) and released below when the
  -- reply is over budget: the script is atomic, so nobody sees the claim come and go.
  if not redis.call('SET', nonce_key, 'r', 'NX', 'PX', ttl) then
    return 0
  end
  local records = {}
  local old = false
  local total = 0
  for i = first, last do
    local head = load_head(KEYS[i])
    if head and sees(head[2], slug, admin) then
      total = total + metadata_size(KEYS[i], head)
      local readable = may_read(head[2], slug, admin)
      local current = want == nil or tonumber(head[1]) == want
      local u, h, b = version_parts(KEYS[i], head[1], readable and current)
      records[i - first + 1] = pack(head, u, h, b)
      if b then total = total + string.len(b) end
      if readable and not current then
        local ou, oh, ob = version_parts(KEYS[i], want, true)
        if ou then
          old = ou .. '\n' .. oh .. ob
          total = total + string.len(ob)
        end
      end
    else
      records[i - first + 1] = false
    end
  end
  if budget > 0 and total > budget then
    redis.call('DEL', nonce_key)
    return { 2, total }
  end
  return { 1, records, old, total }
end

local results = {}
local key = 1
for r = 1, tonumber(ARGV[1]) do
  local a = 2 + (r - 1) * 6
  local count = tonumber(ARGV[a])
  local ok, result = pcall(read_one, KEYS[key], key + 1, key + count, ARGV[a + 1], ARGV[a + 2], ARGV[a + 3] == '1',
    tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]))
  if ok then
    results[r] = result
  else
    results[r] = { 3, tostring(result and (result.err or result) or 'error') }
  end
  key = key + 1 + count
end
return results
