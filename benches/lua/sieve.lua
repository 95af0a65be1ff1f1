-- Sieve of Eratosthenes: array stores and loads in tight loops.
-- Port of benches/pvm/sieve.pvm; runs on Lua 5.4 and LuaJIT.
-- array(n + 1, true) is a fresh table indexed 0..n on every call.

local function sieve(n)
  local flags = {}
  for k = 0, n do
    flags[k] = true
  end
  local count = 0
  local i = 2
  while i <= n do
    if flags[i] then
      count = count + 1
      local j = i * i
      while j <= n do
        flags[j] = false
        j = j + i
      end
    end
    i = i + 1
  end
  return count
end

local function main()
  local total = 0
  for _ = 0, 40 - 1 do
    total = total + sieve(2000000)
  end
  io.write(tostring(total), "\n")
end

main()
