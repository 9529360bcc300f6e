--[[
  Reads the change log after a revision (docs/protocol.md §14), optionally claiming a
  request's nonce first, in one round trip. Entries are returned as stored; the store
  checks each one's MAC (src/store/changes.ts).

  KEYS[1]     change log (stream, entry ID "<revision>-0", field e)
  KEYS[2]     revision counter
  KEYS[3]     optional: nonce key to claim (per caller key and nonce)
  ARGV[1]     since: entries with a larger revision are returned
  ARGV[2]     at most this many entries
  ARGV[3]     nonce time-to-live in milliseconds (with KEYS[3])

  Returns 0 when the nonce was already used (nothing is read); otherwise
  {newest, oldest, entries}: the newest revision (0 before any change), the revision of
  the oldest entry kept (0 when the log is empty), and the entries after since in
  ascending revision, flat: body, revision, body, revision, …
]]
if KEYS[3] and not redis.call('SET', KEYS[3], 'r', 'NX', 'PX', ARGV[3]) then
  return 0
end
local function revision_of(id)
  return tonumber(string.match(id, '^(%d+)'))
end
local newest = tonumber(redis.call('GET', KEYS[2]) or '0')
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
local oldest = 0
if first then oldest = revision_of(first[1]) end
local flat = {}
local since = tonumber(ARGV[1])
if since < newest and tonumber(ARGV[2]) > 0 then
  local entries = redis.call('XRANGE', KEYS[1], string.format('%.0f', since + 1) .. '-0', '+', 'COUNT', tonumber(ARGV[2]))
  for _, entry in ipairs(entries) do
    local fields = entry[2]
    local body = ''
    for i = 1, #fields, 2 do
      if fields[i] == 'e' then body = fields[i + 1] end
    end
    flat[#flat + 1] = body
    flat[#flat + 1] = revision_of(entry[1])
  end
end
return { newest, oldest, flat }
