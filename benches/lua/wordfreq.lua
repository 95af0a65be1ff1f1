-- Word frequencies: string building, hashing and map updates, then a sort.
-- Port of benches/pvm/wordfreq.pvm; runs on Lua 5.4 and LuaJIT.

-- Lua 5.3+ has 64-bit integers (math.type exists); LuaJIT numbers are doubles,
-- where seed * 1103515245 (up to 2^62) would be rounded.
local INT64 = math.type ~= nil

local function main()
  local int64 = INT64
  local words = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta" }
  local counts = {}
  local seed = 42
  for _ = 0, 10000000 - 1 do
    if int64 then
      seed = (seed * 1103515245 + 12345) % 2147483648
    else
      -- Same value with every intermediate below 2^53, hence exact in a double:
      -- 1103515245 = 16838 * 2^16 + 20077 and (s * 16838 * 2^16) mod 2^31
      -- = ((s * 16838) mod 2^15) * 2^16.
      seed = ((seed * 16838) % 32768 * 65536 + seed * 20077 + 12345) % 2147483648
    end
    local w = words[seed % 8 + 1] .. tostring(seed % 1000)
    if counts[w] ~= nil then
      counts[w] = counts[w] + 1
    else
      counts[w] = 1
    end
  end
  local ks = {}
  for k in pairs(counts) do
    ks[#ks + 1] = k
  end
  table.sort(ks) -- byte-wise: Lua runs in the "C" locale unless os.setlocale is called
  local checksum = 0
  for i = 1, #ks do
    local k = ks[i]
    checksum = (checksum * 31 + counts[k] * #k) % 1000000007
  end
  io.write(tostring(#ks), "\n")
  io.write(tostring(checksum), "\n")
end

main()
