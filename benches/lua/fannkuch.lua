-- Fannkuch-redux: permutations and prefix reversals on small int arrays.
-- Port of benches/pvm/fannkuch.pvm; runs on Lua 5.4 and LuaJIT.
-- Lua arrays are 1-based: pvm index i is Lua index i + 1; the values stay 0-based.

local function array(n, x)
  local a = {}
  for i = 1, n do a[i] = x end
  return a
end

local function fannkuch(n)
  local perm = array(n, 0)
  local perm1 = array(n, 0)
  local count = array(n, 0)
  for i = 0, n - 1 do
    perm1[i + 1] = i
  end
  local max_flips = 0
  local checksum = 0
  local perm_count = 0
  local r = n
  while true do
    while r ~= 1 do
      count[r] = r -- count[r - 1] = r
      r = r - 1
    end
    for i = 1, n do
      perm[i] = perm1[i]
    end
    local flips = 0
    local k = perm[1]
    while k ~= 0 do
      local lo = 1     -- pvm lo = 0
      local hi = k + 1 -- pvm hi = k
      while lo < hi do
        local t = perm[lo]
        perm[lo] = perm[hi]
        perm[hi] = t
        lo = lo + 1
        hi = hi - 1
      end
      flips = flips + 1
      k = perm[1]
    end
    if flips > max_flips then
      max_flips = flips
    end
    if perm_count % 2 == 0 then
      checksum = checksum + flips
    else
      checksum = checksum - flips
    end
    while true do
      if r == n then
        return { checksum, max_flips }
      end
      local perm0 = perm1[1]
      for i = 1, r do -- pvm: for i in 0..r { perm1[i] = perm1[i + 1]; }
        perm1[i] = perm1[i + 1]
      end
      perm1[r + 1] = perm0
      count[r + 1] = count[r + 1] - 1
      if count[r + 1] > 0 then
        break
      end
      r = r + 1
    end
    perm_count = perm_count + 1
  end
end

local function main()
  local n = 10
  local result = fannkuch(n)
  io.write(tostring(result[1]), "\n")
  io.write("Pfannkuchen(" .. n .. ") = " .. result[2] .. "\n")
end

main()
