--[[
  Counts, for one batch of secrets, the stored sealed values (every kept version) per
  sealing key id.

  KEYS[1]  index of every key (sorted set)
  ARGV[1]  lower lex bound ("-" or "(<last key of the previous batch>")
  ARGV[2]  batch size
  ARGV[3]  record key prefix; records share the index's hash tag, hence its slot

  Returns {last key of the batch or false when the index is done, {key id, count, ...}}
  with each key id as its 4 raw bytes.
]]
local keys = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]))
local counts = {}
for i = 1, #keys do
  local hash = ARGV[3] .. keys[i]
  local v = tonumber(redis.call('HGET', hash, 'v') or '0')
  for n = v, 1, -1 do
    local h = redis.call('HGET', hash, 'h' .. n)
    if not h then break end
    local id = string.sub(h, 2, 5)
    counts[id] = (counts[id] or 0) + 1
  end
end
local flat = {}
for id, count in pairs(counts) do
  flat[#flat + 1] = id
  flat[#flat + 1] = count
end
local last = false
if #keys == tonumber(ARGV[2]) then last = keys[#keys] end
return { last, flat }
