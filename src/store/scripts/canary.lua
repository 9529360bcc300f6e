--[[
  Creates the canary record (the record layout, sealing a known text) unless one exists,
  in one step, so a worker starting beside another never reads half a canary.

  KEYS[1]     the canary hash
  ARGV[1..n]  field, value pairs of the record

  Returns 1 when created, 0 when a canary already existed.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
