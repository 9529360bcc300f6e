--[[
  Reads what a write must decide on, changing nothing: the nonce's stored value (a
  resend of an accepted write finds its outcome there) and the current record.

  KEYS[1]  nonce key
  KEYS[2]  record hash

  Returns {nonce value or false, {v, a, c, u, h, b}}.
]]
return { redis.call('GET', KEYS[1]), redis.call('HMGET', KEYS[2], 'v', 'a', 'c', 'u', 'h', 'b') }
