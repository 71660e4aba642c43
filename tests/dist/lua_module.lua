-- `require "actrun"` from a stock lua5.4 under mpirun: the module initialises MPI when
-- opened and finalises it when unloaded. Usage: lua5.4 lua_module.lua BUILD/lua
package.cpath = arg[1] .. "/?.so;" .. package.cpath
local actrun = require "actrun"
local dist = require "actrun.dist"
local t = dist.allreduce(actrun.tensor{dist.rank() + 1})
local rows = dist.gather_rows({{rank = dist.rank()}})
if dist.rank() == 0 then
  print(string.format("lua5.4 module: rank %d of %d, sum %d, %d rows", dist.rank(), dist.size(),
    math.tointeger(t:item()), #rows))
end
