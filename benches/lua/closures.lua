-- Closures: calls through function values and captured mutable variables.
-- Port of benches/pvm/closures.pvm; runs on Lua 5.4 and LuaJIT.

local function compose(f, g)
  return function(x) return f(g(x)) end
end

local function main()
  local add1 = function(x) return x + 1 end
  local dbl = function(x) return x * 2 end
  local h = compose(add1, dbl)
  local acc = 0
  for i = 0, 50000000 - 1 do
    acc = (acc + h(i)) % 1000003
  end
  io.write(tostring(acc), "\n")
  local count = 0
  local inc = function() count = count + 1 end
  for _ = 0, 30000000 - 1 do
    inc()
  end
  io.write(tostring(count), "\n")
end

main()
