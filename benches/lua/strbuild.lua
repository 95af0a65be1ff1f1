-- String building: lines built by concatenation in a loop from str() of ints
-- and floats and small pieces; a string grown piece by piece; blocks of lines
-- joined, split back into lines and fields, and the numbers parsed again.
-- Port of benches/pvm/strbuild.pvm; runs on Lua 5.4 and LuaJIT.

local sub, byte, find, format = string.sub, string.byte, string.find, string.format

local Rng = {}
Rng.__index = Rng
function Rng.new(seed) return setmetatable({ seed = seed }, Rng) end
-- MINSTD: the product stays below 2^47, exact in every port (and in doubles).
function Rng:next()
  self.seed = self.seed * 48271 % 2147483647
  return self.seed
end

-- pvm's str(float): the shortest round-trip form, with ".0" on whole numbers.
-- For the values here (multiples of 1/8 below 12500) "%.17g" prints exactly
-- that: their exact decimal expansion has at most 3 decimals.
local function float_str(x)
  local s = format("%.17g", x)
  if not find(s, ".", 1, true) then
    s = s .. ".0"
  end
  return s
end

-- split(s, sep) for a one-byte separator: a new array of new strings.
local function split(s, sep)
  local out, n, start = {}, 0, 1
  while true do
    local at = find(s, sep, start, true)
    if at == nil then
      n = n + 1
      out[n] = sub(s, start)
      return out
    end
    n = n + 1
    out[n] = sub(s, start, at - 1)
    start = at + 1
  end
end

local P = 1000000007

local function main()
  local rng = Rng.new(3)
  local lines = {}
  local grow = ""
  local grown = 0
  local blocks = 0
  local bytes = 0
  local fields = 0
  local sum = 0
  local h = 0
  local last = ""
  for _ = 0, 800000 - 1 do
    local nf = 3 + rng:next() % 6
    local line = ""
    for f = 0, nf - 1 do
      local v = rng:next() % 100000
      if f > 0 then
        line = line .. ","
      end
      local kind = v % 3
      if kind == 0 then
        line = line .. tostring(v)
      elseif kind == 1 then
        -- v / 8 is exact, and its shortest form has at most 3 decimals.
        line = line .. float_str(v / 8.0)
      else
        line = line .. ("w" .. tostring(v % 97) .. "_" .. tostring(f))
      end
    end
    lines[#lines + 1] = line
    last = line
    grow = grow .. (sub(line, 1, math.min(#line, 8)) .. ";")
    if #grow > 4000 then
      h = (h * 31 + #grow + byte(grow, 1001)) % P
      grow = ""
      grown = grown + 1
    end
    if #lines == 500 then
      local block = table.concat(lines, "\n")
      bytes = bytes + #block
      blocks = blocks + 1
      local ls = split(block, "\n")
      for i = 1, #ls do
        local fs = split(ls[i], ",")
        for j = 1, #fs do
          local fld = fs[j]
          fields = fields + 1
          if byte(fld, 1) == 119 then -- "w"
            h = (h * 31 + #fld) % P
          elseif find(fld, ".", 1, true) ~= nil then
            sum = sum + math.floor(tonumber(fld) * 8.0) -- positive: floor == truncation
          else
            sum = sum + tonumber(fld)
          end
        end
      end
      lines = {}
    end
  end
  io.write("blocks " .. tostring(blocks) .. " bytes " .. tostring(bytes) .. " fields " .. tostring(fields), "\n")
  io.write("sum " .. tostring(sum) .. " hash " .. tostring(h) .. " grown " .. tostring(grown) .. " " ..
           tostring(#grow), "\n")
  io.write("last " .. last, "\n")
end

main()
