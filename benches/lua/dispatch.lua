-- Interface dispatch: virtual calls over a mixed array of objects.
-- Port of benches/pvm/dispatch.pvm; runs on Lua 5.4 and LuaJIT.
-- Each class is a metatable; s:area() dispatches through the object's metatable.

local Circle = {}
Circle.__index = Circle
function Circle.new(r) return setmetatable({ r = r }, Circle) end
function Circle:area() return 3.0 * self.r * self.r end

local Rect = {}
Rect.__index = Rect
function Rect.new(w, h) return setmetatable({ w = w, h = h }, Rect) end
function Rect:area() return self.w * self.h end

local Square = {}
Square.__index = Square
function Square.new(side) return setmetatable({ side = side }, Square) end
function Square:area() return self.side * self.side end

local function main()
  local shapes = {}
  for i = 0, 999 do
    local k = i % 3
    -- "+ 0.0" is float(int) on Lua 5.4 (a no-op on LuaJIT)
    if k == 0 then
      shapes[#shapes + 1] = Circle.new(i % 7 + 0.0)
    elseif k == 1 then
      shapes[#shapes + 1] = Rect.new(i % 5 + 0.0, 2.0)
    else
      shapes[#shapes + 1] = Square.new(i % 11 + 0.0)
    end
  end
  local total = 0.0
  for _ = 0, 100000 - 1 do
    for j = 1, #shapes do
      total = total + shapes[j]:area()
    end
  end
  io.write(string.format("%.1f", total), "\n")
end

main()
