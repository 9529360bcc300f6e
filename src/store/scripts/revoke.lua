--[[
  Adds one revocation entry (docs/protocol.md §10), or finds the identical one, and stores the
  reply under the request's nonce in the same atomic step (outcome.lua), so a resend of
  the same bytes gets the first reply. An entry is kept as the outcome its first revoke
  stored: revoking it again answers with the original `at` and `by` and changes nothing.
  Every change bumps the revision counter the workers poll.

  KEYS[1]  nonce key
  KEYS[2]  the entries in the order made (sorted set: member -> revision it was added at)
  KEYS[3]  the entries (hash: member -> the stored outcome of its revoke)
  KEYS[4]  revision counter
  ARGV[1]  nonce time-to-live in milliseconds
  ARGV[2]  nonce value head: "w1|<request digest>"
  ARGV[3]  the entry's member: its selector as canonical text
  ARGV[4]  the outcome of this revoke, used when the entry is new

  Returns {'replay', value} when the nonce was already used (value: what it holds), else
  {'ok', outcome} with the outcome now stored: the new one, or the existing entry's.
]]
--- @include "outcome"
local nonce_key, order, entries, revision = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local existing = used_outcome(nonce_key)
if existing then
  return { 'replay', existing }
end

local outcome = redis.call('HGET', entries, ARGV[3])
if not outcome then
  outcome = ARGV[4]
  local rev = redis.call('INCR', revision)
  redis.call('ZADD', order, rev, ARGV[3])
  redis.call('HSET', entries, ARGV[3], outcome)
end
store_outcome(nonce_key, ARGV[2], 0, outcome, ARGV[1])
return { 'ok', outcome }
