--[[
  Removes exactly the revocation entry with this selector (docs/protocol.md §10) and stores the
  reply (success, or 404 when there is none) under the request's nonce in the same atomic
  step (outcome.lua), so a resend of the same bytes gets the first reply. A removal bumps
  the revision counter the workers poll.

  KEYS[1]  nonce key
  KEYS[2]  the entries in the order made (sorted set, see revoke.lua)
  KEYS[3]  the entries (hash, see revoke.lua)
  KEYS[4]  revision counter
  ARGV[1]  nonce time-to-live in milliseconds
  ARGV[2]  nonce value head: "w1|<request digest>"
  ARGV[3]  the entry's member: its selector as canonical text
  ARGV[4]  the outcome to store when the entry was removed
  ARGV[5]  the outcome to store when there is no such entry (404)

  Returns {'replay', value} when the nonce was already used (value: what it holds),
  {'ok'} when removed, {'missing'} when there was no such entry.
]]
--- @include "outcome"
local nonce_key, order, entries, revision = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local existing = used_outcome(nonce_key)
if existing then
  return { 'replay', existing }
end

if redis.call('HDEL', entries, ARGV[3]) == 0 then
  store_outcome(nonce_key, ARGV[2], 0, ARGV[5], ARGV[1])
  return { 'missing' }
end
redis.call('ZREM', order, ARGV[3])
redis.call('INCR', revision)
store_outcome(nonce_key, ARGV[2], 0, ARGV[4], ARGV[1])
return { 'ok' }
