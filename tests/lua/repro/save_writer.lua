-- Helper of test_save_kill.lua (not a test itself): saves generation after generation of
-- a 16 MB model file to PATH, each generation's tensors filled with its number, until
-- killed. Prints "saved G" after each complete save.
--
--   actrun save_writer.lua PATH FIRST_GENERATION
local path, g = arg[1], tonumber(arg[2])
io.stdout:setvbuf("line")
while true do
  actrun.nn.save(path, {weight = actrun.full({1024, 4096}, g), bias = actrun.full({7}, g)})
  print("saved " .. g)
  g = g + 1
end
