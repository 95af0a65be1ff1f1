-- Mandelbrot set membership: float arithmetic in a nested loop with early exit.
-- Port of benches/pvm/mandelbrot.pvm; runs on Lua 5.4 and LuaJIT.

local function count_inside(size, max_iter)
  local count = 0
  for y = 0, size - 1 do
    local ci = 2.0 * y / size - 1.0
    for x = 0, size - 1 do
      local cr = 2.0 * x / size - 1.5
      local zr = 0.0
      local zi = 0.0
      local i = 0
      local escaped = false
      while i < max_iter do
        local tr = zr * zr - zi * zi + cr
        zi = 2.0 * zr * zi + ci
        zr = tr
        if zr * zr + zi * zi > 4.0 then
          escaped = true
          break
        end
        i = i + 1
      end
      if not escaped then
        count = count + 1
      end
    end
  end
  return count
end

io.write(tostring(count_inside(2400, 50)), "\n")
