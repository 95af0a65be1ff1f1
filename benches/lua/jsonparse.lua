-- JSON parsing: generate a JSON text (string building), then parse it byte by
-- byte into objects, arrays and small maps, one one-character string per byte.
-- Port of benches/pvm/jsonparse.pvm; runs on Lua 5.4 and LuaJIT.
-- Each class is a metatable; v:sum(st) dispatches through it. Positions are
-- 1-based. Objects keep their entry count (pvm's len(map)) next to the table.

local sub, byte, concat = string.sub, string.byte, table.concat

local Rng = {}
Rng.__index = Rng
function Rng.new(seed) return setmetatable({ seed = seed }, Rng) end
-- MINSTD: the product stays below 2^47, exact in every port (and in doubles).
function Rng:next()
  self.seed = self.seed * 48271 % 2147483647
  return self.seed
end

local KEYS = { "id", "name", "type", "value", "tags", "count", "items", "enabled",
               "owner", "size", "path", "mode", "ratio", "child", "next", "meta" }
local WORDS = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta" }
local MAX_DEPTH = 5

local gen_object

local function gen_value(rng, out, depth)
  local r = rng:next() % 20
  if depth < MAX_DEPTH and r < 4 then
    gen_object(rng, out, depth)
  elseif depth < MAX_DEPTH and r < 8 then
    local n = rng:next() % 8
    out[#out + 1] = "["
    for i = 0, n - 1 do
      if i > 0 then
        out[#out + 1] = ", "
      end
      gen_value(rng, out, depth + 1)
    end
    out[#out + 1] = "]"
  elseif r < 12 then
    out[#out + 1] = tostring(rng:next() % 2000001 - 1000000)
  elseif r < 17 then
    local w = WORDS[rng:next() % 8 + 1]
    local k = rng:next() % 10
    if k == 0 then
      out[#out + 1] = "\"" .. w .. "\\nline\""
    elseif k == 1 then
      out[#out + 1] = "\"say \\\"" .. w .. "\\\"\""
    else
      out[#out + 1] = "\"" .. w .. tostring(k * 37) .. "\""
    end
  elseif r == 17 then
    out[#out + 1] = "true"
  elseif r == 18 then
    out[#out + 1] = "false"
  else
    out[#out + 1] = "null"
  end
end

gen_object = function(rng, out, depth)
  local n = 2 + rng:next() % 6
  out[#out + 1] = "{"
  for i = 0, n - 1 do
    if i > 0 then
      out[#out + 1] = ",\n"
    end
    local key = KEYS[rng:next() % 16 + 1]
    out[#out + 1] = "\"" .. key .. "\": "
    gen_value(rng, out, depth + 1)
  end
  out[#out + 1] = "}"
end

local function generate(rng, records)
  local out = {}
  out[#out + 1] = "["
  for i = 0, records - 1 do
    if i > 0 then
      out[#out + 1] = ",\n"
    end
    gen_object(rng, out, 1)
  end
  out[#out + 1] = "]\n"
  return concat(out)
end

local P = 1000000007

local JNull = {}
JNull.__index = JNull
function JNull.new() return setmetatable({}, JNull) end
function JNull:sum(st)
  st.literals = st.literals + 1
  return 1
end

local JBool = {}
JBool.__index = JBool
function JBool.new(v) return setmetatable({ v = v }, JBool) end
function JBool:sum(st)
  st.literals = st.literals + 1
  if self.v then
    return 2
  end
  return 3
end

local JNum = {}
JNum.__index = JNum
function JNum.new(v) return setmetatable({ v = v }, JNum) end
function JNum:sum(st)
  st.numbers = st.numbers + 1
  return self.v + 1000000
end

local JStr = {}
JStr.__index = JStr
function JStr.new(v) return setmetatable({ v = v }, JStr) end
function JStr:sum(st)
  st.strings = st.strings + 1
  st.chars = st.chars + #self.v
  return #self.v * 131 + byte(self.v, 1)
end

local JArr = {}
JArr.__index = JArr
function JArr.new(items) return setmetatable({ items = items }, JArr) end
function JArr:sum(st)
  st.arrays = st.arrays + 1
  local h = 7
  local items = self.items
  for i = 1, #items do
    h = (h * 31 + items[i]:sum(st)) % P
  end
  return h
end

local JObj = {}
JObj.__index = JObj
function JObj.new(fields, count) return setmetatable({ fields = fields, count = count }, JObj) end
-- Independent of the order of the keys (pairs has none).
function JObj:sum(st)
  st.objects = st.objects + 1
  st.keys = st.keys + self.count
  local h = 11
  for k, v in pairs(self.fields) do
    h = (h + (#k * 131 + byte(k, 1)) * v:sum(st)) % P
  end
  return h
end

local Parser = {}
Parser.__index = Parser
function Parser.new(s, pos) return setmetatable({ s = s, pos = pos }, Parser) end

function Parser:peek()
  return sub(self.s, self.pos, self.pos)
end

function Parser:expect(c)
  if self:peek() ~= c then
    error("expected " .. c .. " at " .. tostring(self.pos))
  end
  self.pos = self.pos + 1
end

function Parser:skip_ws()
  while true do
    local c = self:peek()
    if c == " " or c == "\n" then
      self.pos = self.pos + 1
    else
      return
    end
  end
end

function Parser:parse_value()
  self:skip_ws()
  local c = self:peek()
  if c == "{" then
    return self:parse_object()
  end
  if c == "[" then
    return self:parse_array()
  end
  if c == "\"" then
    return JStr.new(self:parse_string())
  end
  if c == "t" then
    self.pos = self.pos + 4
    return JBool.new(true)
  end
  if c == "f" then
    self.pos = self.pos + 5
    return JBool.new(false)
  end
  if c == "n" then
    self.pos = self.pos + 4
    return JNull.new()
  end
  return self:parse_number()
end

function Parser:parse_number()
  local neg = false
  if self:peek() == "-" then
    neg = true
    self.pos = self.pos + 1
  end
  local n = 0
  while true do
    local d = byte(self:peek())
    if d < 48 or d > 57 then
      break
    end
    n = n * 10 + (d - 48)
    self.pos = self.pos + 1
  end
  if neg then
    n = -n
  end
  return JNum.new(n)
end

-- Builds the string one character at a time, as a naive parser does.
function Parser:parse_string()
  self:expect("\"")
  local buf = ""
  while true do
    local c = self:peek()
    self.pos = self.pos + 1
    if c == "\"" then
      return buf
    end
    if c == "\\" then
      local e = self:peek()
      self.pos = self.pos + 1
      if e == "n" then
        buf = buf .. "\n"
      else
        buf = buf .. e
      end
    else
      buf = buf .. c
    end
  end
end

function Parser:parse_array()
  self:expect("[")
  local items = {}
  self:skip_ws()
  if self:peek() == "]" then
    self.pos = self.pos + 1
    return JArr.new(items)
  end
  while true do
    items[#items + 1] = self:parse_value()
    self:skip_ws()
    if self:peek() == "]" then
      self.pos = self.pos + 1
      return JArr.new(items)
    end
    self:expect(",")
  end
end

function Parser:parse_object()
  self:expect("{")
  local fields = {}
  local count = 0
  self:skip_ws()
  if self:peek() == "}" then
    self.pos = self.pos + 1
    return JObj.new(fields, count)
  end
  while true do
    self:skip_ws()
    local k = self:parse_string()
    self:skip_ws()
    self:expect(":")
    local v = self:parse_value()
    if fields[k] == nil then
      count = count + 1
    end
    fields[k] = v
    self:skip_ws()
    if self:peek() == "}" then
      self.pos = self.pos + 1
      return JObj.new(fields, count)
    end
    self:expect(",")
  end
end

local function main()
  local rng = Rng.new(42)
  local st = { objects = 0, arrays = 0, strings = 0, numbers = 0, literals = 0, keys = 0, chars = 0 }
  local bytes = 0
  local checksum = 0
  for _ = 0, 3 - 1 do
    local text = generate(rng, 2500)
    bytes = bytes + #text
    local p = Parser.new(text, 1)
    local doc = p:parse_value()
    checksum = (checksum * 31 + doc:sum(st)) % P
  end
  io.write("bytes " .. tostring(bytes), "\n")
  io.write("objects " .. tostring(st.objects) .. " arrays " .. tostring(st.arrays) ..
           " keys " .. tostring(st.keys), "\n")
  io.write("strings " .. tostring(st.strings) .. " chars " .. tostring(st.chars) ..
           " numbers " .. tostring(st.numbers) .. " literals " .. tostring(st.literals), "\n")
  io.write("checksum " .. tostring(checksum), "\n")
end

main()
