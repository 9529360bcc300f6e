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
  KEYS[6..n]  visibility indexes (sorted sets, one per slug): the first remove_count
              lose the key, the rest gain it
  ARGV[1]     one MessagePack map (src/store/lua-args.ts; built by SecretStore.write):
                mode           create | update | delete | reject
                nonce_ttl      nonce time-to-live in milliseconds
                nonce_head     nonce value head: "w1|<request digest>" (src/store/outcome.ts)
                success        outcome to store on success (or the refusal, for reject)
                conflict       outcome to store on a conflict (key exists, or if_version not current)
                identity       update/delete: the identity planned from (create: the new identity)
                from_version   update/delete: the version planned from
                if_version     ifVersion, or '' for none
                key            the secret's key (the member in the indexes)
                remove_count   how many of KEYS[6..n] the key is removed from
                acl            new lists field (a)
                created        created stamp (c; create only)
                mac            new record MAC (m)
                stamp          the new version's stamp (u)
                head           the new version's sealed head (h)
                box            the new version's ciphertext (b)
                keep_versions  how many versions to keep
                change         the change entry's body (MAC'd by the store)
                keep_changes   how many change entries the log keeps (SECRET_SVC_WATCH_HISTORY)
              Every value is a string (numbers in decimal, bytes as they are).

  Returns one of:
    {'replay', value}  the nonce was already used; value is what it holds
    {'stale'}          the record changed since the write was planned: read again, retry
    {'conflict', v}    exists (create) or ifVersion is not v; the conflict outcome is stored
    {'ok', v, rev}     applied; v is the new version (0 after a delete), rev its revision
    {'ok', 0}          a refusal (reject) was stored
]]
--- @include "record"
--- @include "outcome"
local w = cmsgpack.unpack(ARGV[1])
local mode = w.mode
local nonce_key, record = KEYS[1], KEYS[2]

local existing = used_outcome(nonce_key)
if existing then
  return { 'replay', existing }
end

local function settle(version, outcome)
  store_outcome(nonce_key, w.nonce_head, version, outcome, w.nonce_ttl)
end

-- The next revision, and its entry (stream ID "<rev>-0"); the oldest entries beyond the cap go.
local function log_change()
  local rev = redis.call('INCR', KEYS[5])
  local added = redis.pcall('XADD', KEYS[4], 'MAXLEN', w.keep_changes, rev .. '-0', 'e', w.change)
  if type(added) == 'table' and added.err then
    -- The counter alone went back (lost): carry on after the log's last entry, never fail the write.
    local last = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)[1]
    rev = tonumber(string.match(last[1], '^(%d+)')) + 1
    redis.call('SET', KEYS[5], rev)
    redis.call('XADD', KEYS[4], 'MAXLEN', w.keep_changes, rev .. '-0', 'e', w.change)
  end
  return rev
end

if mode == 'reject' then
  settle(0, w.success)
  return { 'ok', 0 }
end

local function add_to_indexes()
  for i = 6 + tonumber(w.remove_count), #KEYS do
    redis.call('ZADD', KEYS[i], 0, w.key)
  end
end

if mode == 'create' then
  local head = load_head(record)
  if head then
    settle(head[1], w.conflict)
    return { 'conflict', tonumber(head[1]) }
  end
  redis.call('HSET', record, 'v', 1, 'a', w.acl, 'c', w.created, 'i', w.identity, 'm', w.mac,
    'u1', w.stamp, 'h1', w.head, 'b1', w.box)
  redis.call('ZADD', KEYS[3], 0, w.key)
  add_to_indexes()
  settle(1, w.success)
  return { 'ok', 1, log_change() }
end

local head = load_head(record)
if not head then
  return { 'stale' }
end
if w.if_version ~= '' and w.if_version ~= head[1] then
  settle(head[1], w.conflict)
  return { 'conflict', tonumber(head[1]) }
end
if head[4] ~= w.identity or head[1] ~= w.from_version then
  return { 'stale' }
end

for i = 6, 5 + tonumber(w.remove_count) do
  redis.call('ZREM', KEYS[i], w.key)
end

if mode == 'delete' then
  redis.call('DEL', record)
  redis.call('ZREM', KEYS[3], w.key)
  settle(0, w.success)
  return { 'ok', 0, log_change() }
end

local v = tonumber(head[1]) + 1
redis.call('HSET', record, 'v', v, 'a', w.acl, 'm', w.mac, 'u' .. v, w.stamp, 'h' .. v, w.head, 'b' .. v, w.box)
-- Forget the versions beyond the last w.keep_versions (more than one if the setting was lowered).
local n = v - tonumber(w.keep_versions)
while n >= 1 and redis.call('HEXISTS', record, 'h' .. n) == 1 do
  redis.call('HDEL', record, 'u' .. n, 'h' .. n, 'b' .. n)
  n = n - 1
end
add_to_indexes()
settle(v, w.success)
return { 'ok', v, log_change() }
