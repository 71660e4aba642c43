-- actrun.act as a Lua layer over the C table (actrun.act_c), and act.define: a Lua
-- function over tensor ops used everywhere a built-in name is.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local act = actrun.act
local test, eq, near, tensor_near, expect_error = T.test, T.eq, T.near, T.tensor_near, T.expect_error
local act_c = package.loaded["actrun.act_c"]

local shell_quote, interpreter = T.shell_quote, T.interpreter

---------------------------------------------------------------------------------------
-- the layer

test("the C table is hidden as actrun.act_c; actrun.act is the Lua module", function()
  eq(type(act_c), "table")
  T.truthy(not rawequal(act, act_c), "act is not the C table")
  T.truthy(rawequal(require "actrun.act", act), "require gives actrun.act")
  eq(type(act.define), "function")
  eq(type(act.properties), "function")
  eq(type(act.table), "function")
  eq(type(act.plot), "function")
end)

test("built-ins are the C functions themselves, stored in the table", function()
  local n = 0
  for _, name in ipairs(act_c.builtins()) do
    T.truthy(rawget(act, name) ~= nil, name .. " is a raw field")
    T.truthy(rawequal(act[name], act_c[name]), name .. " is the C function")
    n = n + 1
  end
  T.truthy(n >= 29, "29 built-ins or more, got " .. n)
  T.truthy(rawequal(act.softmax, act_c.softmax) and rawequal(act.log_softmax, act_c.log_softmax))
  T.truthy(act.scalars == nil and act.enable_grad == nil and act.builtins == nil and
    act.second == nil,
    "the C helpers stay hidden")
end)

test("a field added to the C table later is found on each use (host activations)", function()
  local y1 = actrun.tensor{1, 2}
  rawset(act_c, "zz_host_probe", function(x) return x * 2 end)
  local ok, err = pcall(function()
    T.truthy(rawget(act, "zz_host_probe") == nil, "not copied")
    tensor_near(act.zz_host_probe(y1), {2, 4})
    rawset(act_c, "zz_host_probe", function(x) return x * 3 end)
    tensor_near(act.zz_host_probe(y1), {3, 6}, 1e-6, "the replacement is seen")
  end)
  rawset(act_c, "zz_host_probe", nil)
  if not ok then error(err, 0) end
  eq(act.zz_host_probe, nil)
end)

---------------------------------------------------------------------------------------
-- define

act.define("square_relu", function(x) return act.relu(x) ^ 2 end,
  {family = "custom", formula = "relu(x)^2"})

test("a defined activation: act.NAME, apply, list, info", function()
  local x = actrun.tensor{{-2, -0.5, 0}, {0.5, 1.5, 3}}
  local want = {{0, 0, 0}, {0.25, 2.25, 9}}
  tensor_near(act.square_relu(x), want)
  tensor_near(act.apply("square_relu", x), want)
  local l = act.list()
  local found = false
  for i, n in ipairs(l) do
    if i > 1 then T.truthy(l[i - 1] < n, "sorted: " .. l[i - 1] .. " < " .. n) end
    if n == "square_relu" then found = true end
  end
  T.truthy(found, "listed")
  eq(#l, #act_c.list() + 1, "one more than the C list")
  eq(act.info("square_relu"), {name = "square_relu", family = "custom", formula = "relu(x)^2",
    params = {}, learnable = false, output_grad = false, defined = true,
    derivatives = "autograd (float32): f' by backward, f'' by double backward"})
  local bi = act.info("relu")
  local di = act.info("square_relu")
  for k in pairs(bi) do T.truthy(di[k] ~= nil, "defined info has built-in field " .. k) end
end)

test("its derivative comes from autograd: scalar, derivative, backward, a graph", function()
  local f, df, d2 = act.scalar("square_relu", 1.5)
  near(f, 2.25)
  near(df, 3)
  near(d2, 2, 1e-6, "f'' by double backward")
  f, df, d2 = act.scalar("square_relu", -1)
  eq({f, df, d2}, {0, 0, 0})
  local x = actrun.tensor{-1, 0.5, 2}
  tensor_near(act.derivative("square_relu", x), {0, 1, 4})
  tensor_near(act.backward("square_relu", x, actrun.tensor{10, 10, -1}), {0, 10, -4})
  eq(x.requires_grad, false, "x untouched")
  eq(x.grad, nil)
  local w = actrun.tensor({-1, 0.5, 2}, {requires_grad = true})
  local loss = (act.square_relu(w) * actrun.tensor{1, 2, 3}):sum()
  loss:backward()
  tensor_near(w.grad, {0, 2, 12})
end)

test("f'' of a defined smooth activation matches the built-in's double reference", function()
  act.define("my_silu", function(x) return x * act.sigmoid(x) end)
  for _, x in ipairs{-3, -0.5, 0.25, 1.5, 4} do
    local _, _, want = act.scalar("silu", x)
    local _, _, got = act.scalar("my_silu", x)
    near(got, want, 1e-5, "silu'' at " .. x)
  end
end)

test("scalar and derivative work under no_grad (autograd is switched on inside)", function()
  local f, df = actrun.no_grad(function() return act.scalar("square_relu", 2) end)
  near(f, 4)
  near(df, 4)
  local d = actrun.no_grad(function() return act.derivative("square_relu", actrun.tensor{3}) end)
  tensor_near(d, {6})
  local y = actrun.no_grad(function() return act.square_relu(actrun.tensor({3}, {requires_grad = true})) end)
  eq(y.requires_grad, false, "no graph recorded under no_grad")
end)

test("declared parameters: positional, by table, defaults filled, p is a fresh table", function()
  local seen
  act.define("scaled_tanh", function(x, p)
    seen = p
    p.a = 99 -- must not leak into the defaults
    return x:tanh() * p.k + p.c
  end, {params = {{name = "k", default = 2}, {name = "c", default = 0}}})
  local x = actrun.tensor{0.5}
  local t = math.tanh(0.5)
  tensor_near(act.scaled_tanh(x), {2 * t})
  eq({seen.k, seen.c}, {2, 0})
  tensor_near(act.scaled_tanh(x, 3), {3 * t})
  tensor_near(act.scaled_tanh(x, nil, 1), {2 * t + 1})
  tensor_near(act.apply("scaled_tanh", x, {c = -1}), {2 * t - 1})
  tensor_near(act.apply("scaled_tanh", x, {k = 1, c = 1}), {t + 1})
  local f, df = act.scalar("scaled_tanh", 0.5, {k = 3})
  near(f, 3 * t, 1e-6)
  near(df, 3 * (1 - t * t), 1e-6)
  tensor_near(act.derivative("scaled_tanh", x, {k = -1}), {-(1 - t * t)})
  eq(act.info("scaled_tanh").params, {{name = "k", default = 2}, {name = "c", default = 0}})
  tensor_near(act.scaled_tanh(x), {2 * t}, 1e-6, "defaults unchanged")
end)

test("without declared parameters fn gets x alone (a C function can be used as fn)", function()
  act.define("relu_alias", act.relu)
  tensor_near(act.relu_alias(actrun.tensor{-1, 2}), {0, 2})
  local f, df = act.scalar("relu_alias", 3)
  eq({f, df}, {3, 1})
end)

test("redefining a defined name replaces it", function()
  act.define("twice", function(x) return x * 2 end)
  tensor_near(act.twice(actrun.tensor{1}), {2})
  local old = act.twice
  act.define("twice", function(x) return x * 3 end, {formula = "3x"})
  tensor_near(act.twice(actrun.tensor{1}), {3})
  tensor_near(act.apply("twice", actrun.tensor{1}), {3})
  eq(act.info("twice").formula, "3x")
  T.truthy(old ~= act.twice, "a new function")
  local n = 0
  for _, name in ipairs(act.list()) do if name == "twice" then n = n + 1 end end
  eq(n, 1, "listed once")
end)

test("errors of define", function()
  local f = function(x) return x end
  expect_error(function() act.define("relu", f) end, "actrun.act.define", "'relu'", "built-in")
  expect_error(function() act.define("selu", f) end, "actrun.act.define", "'selu'", "built-in")
  for _, bad in ipairs{"1abc", "a-b", "", "my act", "end", "x.y"} do
    expect_error(function() act.define(bad, f) end, "actrun.act.define", "argument #1 (name)",
      "identifier")
  end
  expect_error(function() act.define(42, f) end, "actrun.act.define", "argument #1 (name)", "string")
  expect_error(function() act.define("apply", f) end, "actrun.act.define", "'apply'")
  expect_error(function() act.define("properties", f) end, "actrun.act.define", "'properties'")
  expect_error(function() act.define("softmax", f) end, "actrun.act.define", "'softmax'")
  expect_error(function() act.define("ok_name") end, "actrun.act.define", "argument #2 (fn)",
    "a function", "got nil")
  expect_error(function() act.define("ok_name", "x*x") end, "actrun.act.define", "argument #2 (fn)",
    "got string")
  expect_error(function() act.define("ok_name", f, 3) end, "actrun.act.define", "argument #3 (info)")
  expect_error(function() act.define("ok_name", f, {famly = "x"}) end, "actrun.act.define",
    "unknown field 'famly'")
  expect_error(function() act.define("ok_name", f, {formula = 3}) end, "actrun.act.define",
    "info.formula", "string")
  expect_error(function() act.define("ok_name", f, {params = {{name = "k"}}}) end,
    "actrun.act.define", "info.params[1].default", "finite number")
  expect_error(function() act.define("ok_name", f, {params = {{name = "k", default = 0 / 0}}}) end,
    "actrun.act.define", "info.params[1].default")
  expect_error(function() act.define("ok_name", f, {params = {{name = "2k", default = 1}}}) end,
    "actrun.act.define", "info.params[1].name", "identifier")
  expect_error(function()
    act.define("ok_name", f, {params = {{name = "k", default = 1}, {name = "k", default = 2}}})
  end, "actrun.act.define", "'k' given twice")
  expect_error(function() act.define("ok_name", f, {params = "k"}) end, "actrun.act.define",
    "info.params")
  expect_error(function() act.define("ok_name", f, {params = {k = {name = "k", default = 1}}}) end,
    "actrun.act.define", "info.params", "list")
  eq(act.ok_name, nil, "nothing was defined by the failed calls")
  T.truthy(not pcall(act.info, "ok_name"))
end)

test("act.define: a bad parameter declaration names the parameter and what is wrong", function()
  local f = function(x, p) return x * p.beta end
  local function bad(params, ...)
    expect_error(function() act.define("ok_name", f, {params = params}) end, "actrun.act.define", ...)
  end
  -- the default: NaN, infinite, not a number, missing
  bad({{name = "beta", default = 0 / 0}}, "parameter 'beta' is NaN", "info.params[1].default")
  bad({{name = "beta", default = 1 / 0}}, "parameter 'beta' is inf", "finite")
  bad({{name = "k", default = 1}, {name = "beta", default = -1 / 0}}, "parameter 'beta' is -inf",
    "info.params[2].default")
  bad({{name = "beta", default = "1"}}, "parameter 'beta' must be a number, got string")
  bad({{name = "beta", default = true}}, "parameter 'beta' must be a number, got boolean")
  bad({{name = "beta"}}, "parameter 'beta' has no default", "info.params[1].default")
  -- the shape: parameters keyed by name, names alone, a typo in a field
  bad({beta = 1}, "parameter 'beta'", "info.params must be a list", "write {name = \"beta\"")
  bad({beta = 0 / 0}, "parameter 'beta'", "info.params must be a list")
  bad({beta = "x"}, "parameter 'beta'", "info.params must be a list")
  bad({{name = "k", default = 1}, beta = 2}, "parameter 'beta'", "info.params must be a list")
  bad({"beta"}, "parameter 'beta'", "info.params[1]", "write {name = \"beta\"")
  bad({{name = "beta", defualt = 1}}, "parameter 'beta'", "unknown field 'defualt'",
    "name, default")
  bad({{name = "beta", default = 1, min = 0}}, "parameter 'beta'", "unknown field 'min'")
  eq(act.ok_name, nil, "nothing was defined by the failed calls")
end)

test("errors at call time: what fn returns, x, parameters", function()
  act.define("bad_shape", function(x) return x:sum() end)
  act.define("bad_type", function() return 3 end)
  act.define("bad_nothing", function() end)
  local x = actrun.zeros(2, 3)
  local msg = expect_error(function() act.apply("bad_shape", x) end)
  eq(msg:gsub("^.-:%d+: ", ""), "actrun.act.apply: activation 'bad_shape' returned shape {1} for input {2,3}")
  T.truthy(msg:find("^[^\n]*test_act_define%.lua:%d+: actrun%.act%.apply"),
    "blames the caller's line: " .. msg)
  expect_error(function() act.bad_shape(x) end, "actrun.act.bad_shape",
    "activation 'bad_shape' returned shape {1} for input {2,3}")
  expect_error(function() act.bad_type(x) end, "actrun.act.bad_type", "returned 3",
    "expected a tensor of shape {2,3}")
  expect_error(function() act.apply("bad_nothing", x) end, "actrun.act.apply", "returned nothing")
  expect_error(function() act.scalar("bad_type", 1) end, "actrun.act.scalar", "returned 3")
  expect_error(function() act.square_relu({1, 2}) end, "actrun.act.square_relu",
    "argument #1 (x)", "expected a tensor, got table")
  expect_error(function() act.apply("square_relu", 3) end, "actrun.act.apply", "argument #2 (x)",
    "got 3")
  expect_error(function() act.square_relu(x, 1) end, "actrun.act.square_relu", "too many arguments",
    "square_relu takes x")
  expect_error(function() act.scaled_tanh(x, 1, 2, 3) end, "actrun.act.scaled_tanh",
    "too many arguments: 4 given", "takes x, k, c")
  expect_error(function() act.scaled_tanh(x, "big") end, "actrun.act.scaled_tanh",
    "argument #2 (k)", "a number")
  expect_error(function() act.scaled_tanh(x, 1 / 0) end, "actrun.act.scaled_tanh", "'k'", "finite")
  expect_error(function() act.apply("scaled_tanh", x, {beta = 1}) end, "actrun.act.apply",
    "unknown parameter 'beta' for scaled_tanh", "parameters: k, c")
  expect_error(function() act.apply("square_relu", x, {k = 1}) end, "actrun.act.apply",
    "unknown parameter 'k'", "parameters: none")
  expect_error(function() act.apply("scaled_tanh", x, {k = "1"}) end, "actrun.act.apply",
    "parameter 'k' expected a number")
  expect_error(function() act.apply("scaled_tanh", x, {1}) end, "actrun.act.apply",
    "parameter names must be strings")
  expect_error(function() act.apply("scaled_tanh", x, 5) end, "actrun.act.apply",
    "argument #3 (params)")
  expect_error(function() act.scalar("square_relu", "1") end, "actrun.act.scalar",
    "argument #2 (x)", "a number")
  expect_error(function() act.backward("square_relu", x) end, "actrun.act.backward", "dy")
  expect_error(function() act.backward("square_relu", x, actrun.zeros(3)) end,
    "actrun.act.backward", "{3}", "{2,3}")
  expect_error(function() act.derivative("square_relu", "x") end, "actrun.act.derivative",
    "argument #2 (x)")
  -- an error inside fn comes out as it is, and the interpreter keeps working
  act.define("raises", function() error("inside the activation") end)
  expect_error(function() act.raises(x) end, "inside the activation")
  tensor_near(act.square_relu(actrun.tensor{2}), {4})
  -- built-in paths keep the C messages
  expect_error(function() act.apply("nope", x) end,
    "actrun.act.apply: unknown activation 'nope' (see act.list())")
  expect_error(function() act.info("nope") end, "actrun.act.info", "unknown activation 'nope'")
end)

test("a constant activation has derivative 0", function()
  act.define("const_one", function(x) return actrun.ones(x:shape()) end)
  local f, df = act.scalar("const_one", 5)
  eq({f, df}, {1, 0})
  tensor_near(act.derivative("const_one", actrun.tensor{1, 2}), {0, 0})
end)

test("definitions belong to one interpreter", function()
  -- a second instance of the module (what another Lua state loads) starts empty
  local loader = package.preload["actrun.act"]
  T.truthy(loader, "actrun.act is preloaded")
  local other = loader("actrun.act")
  T.truthy(not rawequal(other, act), "a separate table")
  eq(other.square_relu, nil, "not defined there")
  T.truthy(not pcall(other.info, "square_relu"))
  other.define("only_there", function(x) return x end)
  eq(act.only_there, nil, "and its definitions do not leak back")
  -- another process of the command knows nothing of them either
  local exe = interpreter()
  if exe then
    local p = io.popen(shell_quote(exe) .. " -e " ..
      shell_quote("print(pcall(actrun.act.info, 'square_relu'), #actrun.act.list())") .. " 2>&1")
    local out = p:read("a")
    p:close()
    T.truthy(out:match("^false"), "fresh interpreter: " .. out)
    T.truthy(out:find(tostring(#act_c.list()), 1, true), "only built-ins listed: " .. out)
  end
end)

test("a stock Lua 5.4 gets the same layer: act.relu is the C function, define works", function()
  local ok, out = T.stock_lua("local a = require 'actrun'; local act = a.act; " ..
    "act.define('sq', function(x) return x * x end); " ..
    "io.write(tostring(act.relu == package.loaded['actrun.act_c'].relu), ' ', " ..
    "tostring(require 'actrun.act' == act), ' ', act.sq(a.tensor{3}):item(), ' ', " ..
    "select(2, act.scalar('sq', 2)), ' ', act.properties('relu', nil, {cost = false}).kinks[1])")
  T.truthy(ok, "lua5.4 failed: " .. out)
  eq(out, "true true 9 4 0")
end)

test("help documents every function of act and every built-in", function()
  local help = require "actrun.help"
  for _, n in ipairs{"define", "properties", "table", "plot", "apply", "list", "info", "scalar",
                     "derivative", "backward", "softmax", "log_softmax"} do
    local text = help.text("actrun.act." .. n)
    T.truthy(text and text:find("actrun.act." .. n, 1, true), "help for act." .. n)
  end
  T.truthy(help.text(act.define), "found by value")
  for _, n in ipairs(act_c.builtins()) do
    local text = help.text("actrun.act." .. n)
    T.truthy(text and text:find(act.info(n).formula, 1, true), "help for act." .. n)
  end
  T.truthy(help.text("actrun.act.hardtanh"):find("min_val=-1, max_val=1", 1, true))
end)

T.done()
