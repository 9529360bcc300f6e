--[[
  Moves one record's sealed values to the keyring's first key, only if the record is
  still what was read (its MAC covers the current version; old versions never change,
  they are only dropped, by writes that change the MAC): a concurrent write is never
  lost or reverted.

  KEYS[1]     record hash (or the canary)
  ARGV[1]     the record MAC that was read
  ARGV[2]     the new record MAC
  ARGV[3..n]  triples: version, new sealed head (h), new ciphertext (b)

  Returns 1 when applied, 0 when the record changed (or vanished) since it was read.
]]
if redis.call('HGET', KEYS[1], 'm') ~= ARGV[1] then
  return 0
end
for i = 3, #ARGV, 3 do
  if redis.call('HEXISTS', KEYS[1], 'h' .. ARGV[i]) == 1 then
    redis.call('HSET', KEYS[1], 'h' .. ARGV[i], ARGV[i + 1], 'b' .. ARGV[i], ARGV[i + 2])
  end
end
redis.call('HSET', KEYS[1], 'm', ARGV[2])
return 1
