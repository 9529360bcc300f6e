--[[
  Reads what a write must decide on, changing nothing: the current record with its
  value, and (when KEYS[2] is given) the nonce's stored value, where a resend of an
  accepted write finds its outcome. The canary is read through here too.

  KEYS[1]  record hash
  KEYS[2]  nonce key (optional)

  Returns {record or false, nonce value or false}: the record packed (record.lua's pack).
]]
--- @include "record"
local record = false
local head = load_head(KEYS[1])
if head then
  record = pack(head, version_parts(KEYS[1], head[1], true))
end
local used = false
if KEYS[2] then used = redis.call('GET', KEYS[2]) end
return { record, used }
