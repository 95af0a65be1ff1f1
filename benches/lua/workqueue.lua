-- Work queue: insertion-ordered maps under many removals. An {int: int} map
-- is a FIFO queue of jobs (take the oldest from a keys() snapshot, remove it,
-- requeue or spawn jobs, cancel random ones); a {str: int} map is an LRU
-- cache (a hit moves its key to the back, misses evict the oldest quarter).
-- Port of benches/pvm/workqueue.pvm; runs on Lua 5.4 and LuaJIT.
--
-- Lua tables do not keep insertion order, so the maps are an ordered map:
-- a table of values, an array of keys in insertion order in which removed
-- keys leave a `false` hole, and each key's position in that array; the
-- array is compacted when more than half of it is holes.

local function omap_new()
  return { vals = {}, order = {}, pos = {}, n = 0, count = 0 }
end

local function omap_set(m, k, v)
  if m.vals[k] == nil then
    local n = m.n + 1
    m.n = n
    m.order[n] = k
    m.pos[k] = n
    m.count = m.count + 1
  end
  m.vals[k] = v
end

local function omap_remove(m, k)
  if m.vals[k] == nil then
    return
  end
  local order, pos = m.order, m.pos
  order[pos[k]] = false
  pos[k] = nil
  m.vals[k] = nil
  m.count = m.count - 1
  local n = m.n
  if n > 32 and m.count * 2 < n then
    local j = 0
    for i = 1, n do
      local key = order[i]
      if key ~= false then
        j = j + 1
        order[j] = key
        pos[key] = j
      end
    end
    for i = j + 1, n do
      order[i] = nil
    end
    m.n = j
  end
end

-- keys(m): a new array of the keys in insertion order.
local function omap_keys(m)
  local out, j, order = {}, 0, m.order
  for i = 1, m.n do
    local key = order[i]
    if key ~= false then
      j = j + 1
      out[j] = key
    end
  end
  return out
end

local Rng = {}
Rng.__index = Rng
function Rng.new(seed) return setmetatable({ seed = seed }, Rng) end
-- MINSTD: the product stays below 2^47, exact in every port (and in doubles).
function Rng:next()
  self.seed = self.seed * 48271 % 2147483647
  return self.seed
end

local P = 1000000007
local TARGET = 1000

local function main()
  local rng = Rng.new(7)

  -- The queue: job id -> payload, oldest first.
  local q = omap_new()
  local qv = q.vals
  local next_id = 0
  for _ = 0, TARGET - 1 do
    omap_set(q, next_id, rng:next() % 1000)
    next_id = next_id + 1
  end
  local done = 0
  local requeued = 0
  local cancelled = 0
  local order = 0
  local snaps = 0
  for round = 0, 2000 - 1 do
    local ks = omap_keys(q)
    local batch = math.min(250, #ks)
    for i = 1, batch do
      local id = ks[i]
      if qv[id] ~= nil then -- else cancelled since the snapshot
        local p = qv[id]
        omap_remove(q, id)
        done = done + 1
        order = (order * 31 + id * 7 + p) % P
        local r = rng:next() % 8
        if r == 0 then
          omap_set(q, id, p + 1) -- requeued: back of the queue, same id
          requeued = requeued + 1
        else
          local spawn = r % 3
          if q.count < TARGET then
            spawn = spawn + 1
          end
          for j = 0, spawn - 1 do
            omap_set(q, next_id, (p * 3 + j) % 1000)
            next_id = next_id + 1
          end
        end
        local c = next_id - 1 - rng:next() % (2 * TARGET)
        if qv[c] ~= nil then
          omap_remove(q, c)
          cancelled = cancelled + 1
        end
        local b = next_id - 1 - rng:next() % (2 * TARGET)
        if qv[b] ~= nil then
          qv[b] = qv[b] + 1000 -- updated in place: keeps its position
        end
      end
    end
    if round % 16 == 0 then
      local pos = 0
      local qo = q.order
      for j = 1, q.n do
        local k = qo[j]
        if k ~= false then
          snaps = (snaps * 31 + k * (pos % 7 + 1) + qv[k]) % P
          pos = pos + 1
        end
      end
    end
  end
  io.write("queue done " .. tostring(done) .. " requeued " .. tostring(requeued) .. " cancelled " ..
           tostring(cancelled) .. " left " .. tostring(q.count) .. " ids " .. tostring(next_id), "\n")
  io.write("queue order " .. tostring(order) .. " snapshots " .. tostring(snaps), "\n")

  -- The cache: key -> hit count, least recently used first.
  local cache = omap_new()
  local cv = cache.vals
  local cap = 2000
  local hits = 0
  local misses = 0
  local evicted = 0
  local ev = 0
  for i = 0, 600000 - 1 do
    local x = rng:next() % 10
    local id
    if x < 7 then
      id = rng:next() % 1500
    else
      id = rng:next() % 100000
    end
    local key = "user" .. tostring(id)
    if cv[key] ~= nil then
      hits = hits + 1
      local v = cv[key]
      omap_remove(cache, key)
      omap_set(cache, key, v + 1) -- most recently used: back of the order
    else
      misses = misses + 1
      omap_set(cache, key, i % 1000)
      if cache.count > cap then
        local ks = omap_keys(cache)
        for j = 1, math.floor(cap / 4) do
          local k = ks[j]
          ev = (ev * 31 + #k * 1000 + cv[k]) % P
          omap_remove(cache, k)
          evicted = evicted + 1
        end
      end
    end
  end
  local fin = 0
  local pos = 0
  local co = cache.order
  for j = 1, cache.n do
    local k = co[j]
    if k ~= false then
      fin = (fin * 31 + string.byte(k, 5) * (pos % 5 + 1) + cv[k]) % P
      pos = pos + 1
    end
  end
  io.write("cache hits " .. tostring(hits) .. " misses " .. tostring(misses) .. " evicted " ..
           tostring(evicted) .. " size " .. tostring(cache.count), "\n")
  io.write("cache order " .. tostring(ev) .. " " .. tostring(fin), "\n")
end

main()
