--[[
  Reads what a write must decide on, changing nothing: the nonce's stored value (a
  resend of an accepted write finds its outcome there) and the current record.

  KEYS[1]  nonce key
  KEYS[2]  record hash

  Returns {nonce value or false, record}: the record packed as in read.lua, or false.
]]
local f = redis.call('HMGET', KEYS[2], 'v', 'a', 'c', 'u', 'h', 'b')
local record = false
if f[1] then
  record = f[1] .. '\n' .. (f[2] or '') .. '\n' .. (f[3] or '') .. '\n' .. (f[4] or '') .. '\n' .. (f[5] or '') .. (f[6] or '')
end
return { redis.call('GET', KEYS[1]), record }
