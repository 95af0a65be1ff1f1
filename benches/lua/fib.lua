-- Recursive calls: call/return overhead and integer arithmetic.
-- Port of benches/pvm/fib.pvm; runs on Lua 5.4 and LuaJIT.

local function fib(n)
  if n < 2 then
    return n
  end
  return fib(n - 1) + fib(n - 2)
end

io.write(tostring(fib(40)), "\n")
