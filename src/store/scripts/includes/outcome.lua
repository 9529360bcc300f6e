--[[
  The nonce of a request resent like a write (src/store/outcome.ts describes its value),
  shared by write.lua, revoke.lua and unrevoke.lua: the loader puts this file where a
  script says  --- @include "outcome"

  used_outcome(nonce_key)                          what the nonce holds, or nil when unused
  store_outcome(nonce_key, head, version, outcome, ttl_ms)
                                                   claims it: head .. '|' .. version .. '|' .. outcome
]]
local function used_outcome(nonce_key)
  local existing = redis.call('GET', nonce_key)
  if existing then return existing end
  return nil
end

local function store_outcome(nonce_key, head, version, outcome, ttl_ms)
  redis.call('SET', nonce_key, head .. '|' .. version .. '|' .. outcome, 'PX', ttl_ms)
end
