--[[
  The record layout (src/store/record.ts describes the fields), shared by every script:
  the loader puts this file where a script says  --- @include "record"

  load_head(hash)              {v, a, c, i, m} or nil when absent
  version_parts(hash, n, box)  u, h and (when box) b of version n; nil when not kept
  pack(head, u, h, b)          "v\na\nc\ni\nu\n" .. m .. h, then "B" .. b when b is given: what record.ts parses
  sees(a, slug, admin)         the visibility pre-filter (the worker's policy decides again)
  may_read(a, slug, admin)     the read right pre-filter
  metadata_size(name, head)    what a record's metadata may take in a reply, at most (bytes)
]]
local function load_head(hash)
  local f = redis.call('HMGET', hash, 'v', 'a', 'c', 'i', 'm')
  if not f[1] then return nil end
  return f
end

local function version_parts(hash, n, box)
  local f
  if box then
    f = redis.call('HMGET', hash, 'u' .. n, 'h' .. n, 'b' .. n)
  else
    f = redis.call('HMGET', hash, 'u' .. n, 'h' .. n)
  end
  if not f[1] then return nil end
  if box then return f[1], f[2] or '', f[3] or '' end
  return f[1], f[2] or '', nil
end

local function pack(head, u, h, b)
  return head[1] .. '\n' .. (head[2] or '') .. '\n' .. (head[3] or '') .. '\n' .. (head[4] or '') .. '\n' ..
    (u or '') .. '\n' .. (head[5] or '') .. (h or '') .. (b and ('B' .. b) or '')
end

local function in_list(list, slug)
  return string.find(',' .. list .. ',', ',' .. slug .. ',', 1, true) ~= nil
end

local function sees(a, slug, admin)
  if admin then return true end
  return in_list(string.gsub(a or '', '|', ','), slug)
end

local function may_read(a, slug, admin)
  if admin then return true end
  local readers = string.match(a or '', '^([^|]*)')
  return in_list(readers, slug)
end

-- A margin for the stamps, version and encoding, the name, and the lists counted twice
-- (each slug becomes a quoted array item).
local function metadata_size(name, head)
  return 256 + string.len(name) + 2 * string.len(head[2] or '')
end
