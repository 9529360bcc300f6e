--[[
  Reads for several requests at once (the worker batches the reads that arrive together,
  src/store/read-batch.ts): for each, in order, measures the reply, claims its nonce and
  fetches its records.
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
    {3, message}               an error Redis raised while reading this request's keys
                               (its nonce is left unclaimed); an error of the claim itself
                               (READONLY, OOM) fails the whole call instead
    {1, records, old, bytes}   records[i]: the packed record (record.lua's pack; without its
                               value when the caller may not read it) or false when absent
                               or not visible; old: the asked version packed as
                               "u\n" .. h .. b, or false when not kept (or not asked for);
                               bytes: the size estimate the budget was checked against
]]
--- @include "record"

-- First pass: what the caller sees and the reply's size, from the stored sizes (nothing fetched).
local function measure(first, last, slug, admin, want)
  local heads, readable = {}, {}
  local total = 0
  for i = first, last do
    local head = load_head(KEYS[i])
    if head and sees(head[2], slug, admin) then
      heads[i] = head
      total = total + metadata_size(KEYS[i], head)
      if may_read(head[2], slug, admin) then
        readable[i] = true
        total = total + redis.call('HSTRLEN', KEYS[i], 'b' .. (want or head[1]))
      end
    end
  end
  return heads, readable, total
end

-- Second pass, once the nonce is claimed: the records (values only where readable) and the old version.
local function fetch(first, last, heads, readable, want)
  local records = {}
  local old = false
  for i = first, last do
    local head = heads[i]
    if head then
      local current = want == nil or tonumber(head[1]) == want
      local u, h, b = version_parts(KEYS[i], head[1], readable[i] and current)
      records[i - first + 1] = pack(head, u, h, b)
      if readable[i] and not current then
        local ou, oh, ob = version_parts(KEYS[i], want, true)
        if ou then old = ou .. '\n' .. oh .. ob end
      end
    else
      records[i - first + 1] = false
    end
  end
  return records, old
end

local function failed(err)
  return { 3, tostring(type(err) == 'table' and err.err or err) }
end

local results = {}
local key = 1
for r = 1, tonumber(ARGV[1]) do
  local a = 2 + (r - 1) * 6
  local count = tonumber(ARGV[a])
  local nonce_key, first, last = KEYS[key], key + 1, key + count
  local slug, admin, budget, want = ARGV[a + 2], ARGV[a + 3] == '1', tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  -- Errors Redis raises while reading (a key of another type) are this request's; the claim
  -- below is not caught: READONLY or OOM fail the whole call, as ioredis must see them.
  local ok, heads, readable, total = pcall(measure, first, last, slug, admin, want)
  if not ok then
    results[r] = failed(heads)
  elseif budget > 0 and total > budget then
    results[r] = redis.call('EXISTS', nonce_key) == 1 and 0 or { 2, total }
  elseif not redis.call('SET', nonce_key, 'r', 'NX', 'PX', ARGV[a + 1]) then
    results[r] = 0
  else
    local fetched, records, old = pcall(fetch, first, last, heads, readable, want)
    if fetched then
      results[r] = { 1, records, old, total }
    else
      -- Nothing is answered: the request did not happen, so its nonce stays unused.
      redis.call('DEL', nonce_key)
      results[r] = failed(records)
    end
  end
  key = key + 1 + count
end
return results
