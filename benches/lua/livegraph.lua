-- Live graph: a large live set of small objects (30,000 trees of 15 nodes, each
-- node with its own label string) that is slowly mutated, replacing random
-- subtrees, while every step also builds and drops a short-lived tree.
-- Port of benches/pvm/livegraph.pvm; runs on Lua 5.4 and LuaJIT.

-- class Node { id; weight; label; left; right } -- one table per node.
local function Node(id, weight, label, left, right)
  return { id = id, weight = weight, label = label, left = left, right = right }
end

local P = 1000000007

local Gen = {}
Gen.__index = Gen
function Gen.new(seed, ids) return setmetatable({ seed = seed, ids = ids }, Gen) end

-- MINSTD: the product stays below 2^47, exact in every port (and in doubles).
function Gen:next()
  self.seed = self.seed * 48271 % 2147483647
  return self.seed
end

-- A full tree of the given depth; a node's children are built after it.
function Gen:tree(depth)
  local id = self.ids
  self.ids = self.ids + 1
  local w = self:next() % 1000
  local label = "n" .. tostring(id)
  if depth == 0 then
    return Node(id, w, label, nil, nil)
  end
  local l = self:tree(depth - 1)
  local r = self:tree(depth - 1)
  return Node(id, w, label, l, r)
end

local function check(n)
  if n == nil then
    return 0
  end
  return (n.weight + #n.label + check(n.left) * 3 + check(n.right) * 5) % P
end

local function main()
  local slots_n = 30000
  local depth = 3
  local g = Gen.new(11, 0)
  local slots = {}
  for _ = 0, slots_n - 1 do
    slots[#slots + 1] = g:tree(depth)
  end
  local temp = 0
  local replaced = 0
  for step = 0, 200000 - 1 do
    -- Short-lived garbage: a small tree, checked and dropped.
    local t = g:tree(2)
    temp = (temp + check(t)) % P
    -- A little mutation of the live set.
    local s = g:next() % slots_n
    local node = slots[s + 1]
    node.weight = (node.weight + step) % 1000
    if step % 4 == 0 then
      local k = g:next() % 4
      if k == 0 then
        slots[s + 1] = g:tree(depth)
      elseif k == 1 then
        node.left = g:tree(depth - 1)
      elseif k == 2 then
        node.right = g:tree(depth - 1)
      else
        node.left.right = g:tree(depth - 2)
      end
      replaced = replaced + 1
    end
  end
  local live = 0
  for i = 1, #slots do
    live = (live * 31 + check(slots[i])) % P
  end
  io.write("nodes " .. tostring(g.ids) .. " replaced " .. tostring(replaced), "\n")
  io.write("temp " .. tostring(temp) .. " live " .. tostring(live), "\n")
end

main()
