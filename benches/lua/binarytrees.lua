-- Binary trees: allocation and garbage collection of many short-lived objects.
-- Port of benches/pvm/binarytrees.pvm; runs on Lua 5.4 and LuaJIT.

-- class Node { left: Node; right: Node; } -- one table per node.
local function Node(left, right)
  return { left = left, right = right }
end

local function make(depth)
  if depth == 0 then
    return Node(nil, nil)
  end
  return Node(make(depth - 1), make(depth - 1))
end

local function check(node)
  if node.left == nil then
    return 1
  end
  return 1 + check(node.left) + check(node.right)
end

-- 1 << k without the 5.3+ shift operator; math.floor returns an integer on 5.4.
local function shl1(k)
  return math.floor(2 ^ k)
end

local function main()
  local max_depth = 16
  local stretch = max_depth + 1
  io.write("stretch tree of depth " .. stretch .. "\t check: " .. check(make(stretch)) .. "\n")
  local long_lived = make(max_depth)
  local depth = 4
  while depth <= max_depth do
    local iterations = shl1(max_depth - depth + 4)
    local total = 0
    for _ = 0, iterations - 1 do
      total = total + check(make(depth))
    end
    io.write(iterations .. "\t trees of depth " .. depth .. "\t check: " .. total .. "\n")
    depth = depth + 2
  end
  io.write("long lived tree of depth " .. max_depth .. "\t check: " .. check(long_lived) .. "\n")
end

main()
