-- Spectral norm: small function calls and float arrays.
-- Port of benches/pvm/spectralnorm.pvm; runs on Lua 5.4 and LuaJIT.
-- Loops run over pvm's 0-based indices; Lua arrays are 1-based (v[j + 1]).

local function a(i, j)
  local ij = i + j
  -- pvm: 1.0 / float(ij * (ij + 1) / 2 + i + 1) with int division. ij * (ij + 1)
  -- is even and far below 2^53, so "/ 2" is exact on both Lua 5.4 and LuaJIT.
  return 1.0 / (ij * (ij + 1) / 2 + i + 1)
end

local function mul_av(n, v, av)
  for i = 0, n - 1 do
    local sum = 0.0
    for j = 0, n - 1 do
      sum = sum + a(i, j) * v[j + 1]
    end
    av[i + 1] = sum
  end
end

local function mul_atv(n, v, atv)
  for i = 0, n - 1 do
    local sum = 0.0
    for j = 0, n - 1 do
      sum = sum + a(j, i) * v[j + 1]
    end
    atv[i + 1] = sum
  end
end

local function mul_atav(n, v, out, tmp)
  mul_av(n, v, tmp)
  mul_atv(n, tmp, out)
end

local function array(n, x)
  local t = {}
  for i = 1, n do t[i] = x end
  return t
end

local function main()
  local n = 2000
  local u = array(n, 1.0)
  local v = array(n, 0.0)
  local tmp = array(n, 0.0)
  for _ = 0, 10 - 1 do
    mul_atav(n, u, v, tmp)
    mul_atav(n, v, u, tmp)
  end
  local vbv = 0.0
  local vv = 0.0
  for i = 1, n do
    vbv = vbv + u[i] * v[i]
    vv = vv + v[i] * v[i]
  end
  io.write(string.format("%.9f", math.sqrt(vbv / vv)), "\n")
end

main()
