-- actrun.nn: every public name has a help entry, found by value and by name.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local nn = actrun.nn
local help = require "actrun.help"
local test, truthy = T.test, T.truthy

test("every public function and class of actrun.nn has documentation", function()
  local missing = {}
  for k, v in pairs(nn) do
    if type(k) == "string" and not k:match("^_") and (type(v) == "function" or type(v) == "table")
        and not help.text("actrun.nn." .. k) then
      -- the shortcuts share one entry each with their family (ReLU's lists Tanh ... SELU)
      -- (save and load are documented with the model files, in their own doc module)
      if not ({Tanh = 1, Sigmoid = 1, GELU = 1, SELU = 1, save = 1, load = 1})[k] then
        missing[#missing + 1] = k
      end
    end
  end
  for k, v in pairs(nn.init) do
    if type(v) == "function" and not help.text("actrun.nn.init." .. k) and k ~= "ones" and
        k ~= "constant" then
      missing[#missing + 1] = "init." .. k
    end
  end
  for _, k in ipairs{"extend", "register_parameter", "register_module", "register_buffer",
      "parameters", "named_parameters", "named_buffers", "children", "named_modules", "train",
      "eval", "zero_grad", "num_parameters", "add_hook"} do
    if not help.text("actrun.nn.Module." .. k) then missing[#missing + 1] = "Module." .. k end
  end
  table.sort(missing)
  T.eq(missing, {}, "undocumented")
end)

test("help finds module entries by value", function()
  truthy((help.text(nn.Linear) or ""):find("Linear%(in, out"), "nn.Linear by value")
  truthy((help.text(nn.mlp) or ""):find("nn.mlp{"), "nn.mlp by value")
  truthy((help.text(nn.Module.parameters) or ""):find("parameters%(%)"), "a method by value")
  truthy((help.text("nn.LSTM") or ""):find("gate order"), "by short name")
end)

T.done()
