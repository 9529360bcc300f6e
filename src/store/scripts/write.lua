--[[
  Applies one create, update or delete, or records a refusal, together with the
  request's outcome stored under its nonce: a resent envelope then gets the first
  attempt's reply and the write happens once. All in one atomic step.

  KEYS[1]     nonce key
  KEYS[2]     record hash
  KEYS[3]     index of every key (sorted set)
  KEYS[4..n]  visibility indexes (sorted sets, one per slug): the first ARGV[10]
              lose the key, the rest gain it
  ARGV[1]     mode: create | update | delete | reject
  ARGV[2]     nonce time-to-live in milliseconds
  ARGV[3]     nonce value head: "w1|<request digest>"
  ARGV[4]     outcome to store on success (or the refusal, for reject)
  ARGV[5]     outcome to store on a conflict (key exists, or ifVersion not current)
  ARGV[6]     update/delete: the ACL field the caller decided on; if the record's
              differs (or the record is gone) nothing is written
  ARGV[7]     ifVersion, or '' for none
  ARGV[8]     the secret's key (the member in the indexes)
  ARGV[9]     new ACL field
  ARGV[10]    how many of KEYS[4..n] the key is removed from
  ARGV[11]    created field (create only)
  ARGV[12]    updated field
  ARGV[13]    sealed value header (field h), or '' to keep the current value
  ARGV[14]    sealed box (field b)

  Returns one of:
    {'replay', value}  the nonce was already used; value is what it holds
    {'stale'}          the record changed since the caller read it: read again, retry
    {'conflict', v}    exists (create) or ifVersion is not v; the conflict outcome is stored
    {'ok', v}          applied; v is the new version (0 after a delete)
]]
local mode = ARGV[1]
local nonce_key, record = KEYS[1], KEYS[2]

local existing = redis.call('GET', nonce_key)
if existing then
  return { 'replay', existing }
end

local function settle(version, outcome)
  redis.call('SET', nonce_key, ARGV[3] .. '|' .. version .. '|' .. outcome, 'PX', ARGV[2])
end

if mode == 'reject' then
  settle(0, ARGV[4])
  return { 'ok', 0 }
end

if mode == 'create' then
  if redis.call('EXISTS', record) == 1 then
    local v = redis.call('HGET', record, 'v')
    settle(v, ARGV[5])
    return { 'conflict', tonumber(v) }
  end
  redis.call('HSET', record, 'v', 1, 'a', ARGV[9], 'c', ARGV[11], 'u', ARGV[12], 'h', ARGV[13], 'b', ARGV[14])
  redis.call('ZADD', KEYS[3], 0, ARGV[8])
  for i = 4 + tonumber(ARGV[10]), #KEYS do
    redis.call('ZADD', KEYS[i], 0, ARGV[8])
  end
  settle(1, ARGV[4])
  return { 'ok', 1 }
end

-- update and delete act only on the record the caller's decision was made on
if redis.call('HGET', record, 'a') ~= ARGV[6] then
  return { 'stale' }
end
local current = redis.call('HGET', record, 'v')
if ARGV[7] ~= '' and ARGV[7] ~= current then
  settle(current, ARGV[5])
  return { 'conflict', tonumber(current) }
end

for i = 4, 3 + tonumber(ARGV[10]) do
  redis.call('ZREM', KEYS[i], ARGV[8])
end

if mode == 'delete' then
  redis.call('DEL', record)
  redis.call('ZREM', KEYS[3], ARGV[8])
  settle(0, ARGV[4])
  return { 'ok', 0 }
end

local v = redis.call('HINCRBY', record, 'v', 1)
redis.call('HSET', record, 'a', ARGV[9], 'u', ARGV[12])
if ARGV[13] ~= '' then
  redis.call('HSET', record, 'h', ARGV[13], 'b', ARGV[14])
end
for i = 4 + tonumber(ARGV[10]), #KEYS do
  redis.call('ZADD', KEYS[i], 0, ARGV[8])
end
settle(v, ARGV[4])
return { 'ok', v }
