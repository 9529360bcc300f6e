--[[
  Applies one create, update or delete, or records a refusal, together with the
  request's outcome stored under its nonce: a resent envelope then gets the first
  attempt's reply and the write happens once. All in one atomic step. An update or
  delete applies only to the record it was planned from (same identity and version).
  An applied change takes the next revision and appends its change entry to the log
  (docs/protocol.md §14) in this same step: a change and its entry exist together or not
  at all, and a resend (answered from the nonce) makes none.

  KEYS[1]     nonce key
  KEYS[2]     record hash
  KEYS[3]     index of every key (sorted set)
  KEYS[4]     change log (stream, entry ID "<revision>-0", field e; src/store/changes.ts)
  KEYS[5]     revision counter
  KEYS[6..n]  visibility indexes (sorted sets, one per slug): the first ARGV[10]
              lose the key, the rest gain it
  ARGV[1]     mode: create | update | delete | reject
  ARGV[2]     nonce time-to-live in milliseconds
  ARGV[3]     nonce value head: "w1|<request digest>"
  ARGV[4]     outcome to store on success (or the refusal, for reject)
  ARGV[5]     outcome to store on a conflict (key exists, or ifVersion not current)
  ARGV[6]     update/delete: the identity planned from (create: the new identity)
  ARGV[7]     update/delete: the version planned from
  ARGV[8]     ifVersion, or '' for none
  ARGV[9]     the secret's key (the member in the indexes)
  ARGV[10]    how many of KEYS[6..n] the key is removed from
  ARGV[11]    new lists field (a)
  ARGV[12]    created stamp (c; create only)
  ARGV[13]    new record MAC (m)
  ARGV[14]    the new version's stamp (u)
  ARGV[15]    the new version's sealed head (h)
  ARGV[16]    the new version's ciphertext (b)
  ARGV[17]    how many versions to keep
  ARGV[18]    the change entry's body (MAC'd by the store)
  ARGV[19]    how many change entries the log keeps (SECRET_SVC_WATCH_HISTORY)

  Returns one of:
    {'replay', value}  the nonce was already used; value is what it holds
    {'stale'}          the record changed since the write was planned: read again, retry
    {'conflict', v}    exists (create) or ifVersion is not v; the conflict outcome is stored
    {'ok', v, rev}     applied; v is the new version (0 after a delete), rev its revision
    {'ok', 0}          a refusal (reject) was stored
]]
--- @include "record"
--- @include "outcome"
local mode = ARGV[1]
local nonce_key, record = KEYS[1], KEYS[2]

local existing = used_outcome(nonce_key)
if existing then
  return { 'replay', existing }
end

local function settle(version, outcome)
  store_outcome(nonce_key, ARGV[3], version, outcome, ARGV[2])
end

-- The next revision, and its entry (stream ID "<rev>-0"); the oldest entries beyond the cap go.
local function log_change()
  local rev = redis.call('INCR', KEYS[5])
  local added = redis.pcall('XADD', KEYS[4], 'MAXLEN', ARGV[19], rev .. '-0', 'e', ARGV[18])
  if type(added) == 'table' and added.err then
    -- The counter alone went back (lost): carry on after the log's last entry, never fail the write.
    local last = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)[1]
    rev = tonumber(string.match(last[1], '^(%d+)')) + 1
    redis.call('SET', KEYS[5], rev)
    redis.call('XADD', KEYS[4], 'MAXLEN', ARGV[19], rev .. '-0', 'e', ARGV[18])
  end
  return rev
end

if mode == 'reject' then
  settle(0, ARGV[4])
  return { 'ok', 0 }
end

local function add_to_indexes()
  for i = 6 + tonumber(ARGV[10]), #KEYS do
    redis.call('ZADD', KEYS[i], 0, ARGV[9])
  end
end

if mode == 'create' then
  local head = load_head(record)
  if head then
    settle(head[1], ARGV[5])
    return { 'conflict', tonumber(head[1]) }
  end
  redis.call('HSET', record, 'v', 1, 'a', ARGV[11], 'c', ARGV[12], 'i', ARGV[6], 'm', ARGV[13],
    'u1', ARGV[14], 'h1', ARGV[15], 'b1', ARGV[16])
  redis.call('ZADD', KEYS[3], 0, ARGV[9])
  add_to_indexes()
  settle(1, ARGV[4])
  return { 'ok', 1, log_change() }
end

local head = load_head(record)
if not head then
  return { 'stale' }
end
if ARGV[8] ~= '' and ARGV[8] ~= head[1] then
  settle(head[1], ARGV[5])
  return { 'conflict', tonumber(head[1]) }
end
if head[4] ~= ARGV[6] or head[1] ~= ARGV[7] then
  return { 'stale' }
end

for i = 6, 5 + tonumber(ARGV[10]) do
  redis.call('ZREM', KEYS[i], ARGV[9])
end

if mode == 'delete' then
  redis.call('DEL', record)
  redis.call('ZREM', KEYS[3], ARGV[9])
  settle(0, ARGV[4])
  return { 'ok', 0, log_change() }
end

local v = tonumber(head[1]) + 1
redis.call('HSET', record, 'v', v, 'a', ARGV[11], 'm', ARGV[13], 'u' .. v, ARGV[14], 'h' .. v, ARGV[15], 'b' .. v, ARGV[16])
-- Forget the versions beyond the last ARGV[17] (more than one if the setting was lowered).
local n = v - tonumber(ARGV[17])
while n >= 1 and redis.call('HEXISTS', record, 'h' .. n) == 1 do
  redis.call('HDEL', record, 'u' .. n, 'h' .. n, 'b' .. n)
  n = n - 1
end
add_to_indexes()
settle(v, ARGV[4])
return { 'ok', v, log_change() }
