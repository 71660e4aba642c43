-- scripts/lib/cli.lua: option parsing, usage, tables, medians; bad options in a real script.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" ..
    (arg[0]:match("^(.*)/") or ".") .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local H = require "helpers"
local cli = dofile(H.root .. "/scripts/lib/cli.lua")
local test, eq, truthy, near = T.test, T.eq, T.truthy, T.near

local spec = {usage = "actrun x.lua [options]", about = "About.", options = {
  {"quick", "flag", help = "small"},
  {"epochs", "int", 10, help = "epochs", min = 1},
  {"lr", "number", 0.5, help = "rate", min = 0},
  {"name", "string", nil, help = "a name", arg = "NAME"},
  {"mode", "string", "a", choices = {"a", "b"}},
  {"torch-file", "string", nil},
}}

test("defaults, and nothing marked given", function()
  local opt, given = cli.try_parse({}, spec)
  eq(opt, {quick = false, epochs = 10, lr = 0.5, mode = "a"})
  eq(given, {})
end)

test("values in both forms, typed, and marked given", function()
  local opt, given = cli.try_parse({"--epochs", "3", "--lr=1e-2", "--quick", "--name", "x=y",
    "--mode", "b", "--torch-file", "f.txt"}, spec)
  eq(opt, {quick = true, epochs = 3, lr = 0.01, name = "x=y", mode = "b", ["torch-file"] = "f.txt"})
  eq(math.type(opt.epochs), "integer")
  eq(given, {quick = true, epochs = true, lr = true, name = true, mode = true, ["torch-file"] = true})
end)

test("the last of a repeated option wins", function()
  eq((cli.try_parse({"--epochs", "3", "--epochs", "4"}, spec)).epochs, 4)
end)

test("bad command lines give a message naming the option", function()
  local cases = {
    {{"--bogus"}, "unknown option %-%-bogus"},
    {{"--epochs"}, "%-%-epochs needs a value"},
    {{"--epochs", "2.5"}, "%-%-epochs: expected an integer, got '2.5'"},
    {{"--epochs", "x"}, "expected an integer"},
    {{"--epochs", "0"}, "expected a value >= 1"},
    {{"--lr", "fast"}, "%-%-lr: expected a number"},
    {{"--lr", "nan"}, "expected a number"},
    {{"--mode", "c"}, "expected one of a, b"},
    {{"--quick=1"}, "takes no value"},
    {{"stray"}, "unexpected argument 'stray'"},
  }
  for _, c in ipairs(cases) do
    local opt, err = cli.try_parse(c[1], spec)
    eq(opt, nil, table.concat(c[1], " "))
    truthy(tostring(err):find(c[2]), "message for " .. table.concat(c[1], " ") .. ": " .. tostring(err))
  end
end)

test("-h and --help ask for the usage", function()
  for _, h in ipairs{"-h", "--help"} do
    local opt, _, help = cli.try_parse({"--epochs", "2", h}, spec)
    eq(opt, nil)
    eq(help, true)
  end
end)

test("the usage lists every option with its default", function()
  local u = cli.usage(spec)
  truthy(u:find("^usage: actrun x.lua %[options%]\nAbout.\n"), u)
  truthy(u:find("\n  %-%-epochs N +epochs %(default 10%)\n"), u)
  truthy(u:find("\n  %-%-name NAME +a name\n"), u)
  truthy(u:find("%[a|b%]"), u)
  truthy(u:find("%-h, %-%-help"), u)
end)

test("format_table aligns numbers right, strings left, blanks missing cells", function()
  local s = cli.format_table({{"name", "n"}, {"value", "v", "%.2f"},
    {"twice", function(r) return r.v and r.v * 2 end, "%g"}},
    {{n = "relu", v = 1.5}, {n = "gelu_tanh", v = 12.25}, {n = "x"}})
  eq(s, table.concat({
    "name       value  twice",
    "---------  -----  -----",
    "relu        1.50      3",
    "gelu_tanh  12.25   24.5",
    "x",
  }, "\n"))
end)

test("format_table as Markdown", function()
  local s = cli.format_table({{"a", "a"}, {"b", "b", "%d"}}, {{a = "x", b = 10}}, {markdown = true})
  eq(s, "| a   |   b |\n| --- | --: |\n| x   |  10 |")
end)

test("median and geometric mean", function()
  eq(cli.median({3, 1, 2}), 2)
  eq(cli.median({4, 1, 3, 2}), 2.5)
  near(cli.geomean({2, 8}), 4, 1e-12)
  near(cli.geomean({2, 8, 0, math.huge}), 4, 1e-12) -- non-positive and infinite ignored
  eq(cli.geomean({}), nil)
end)

test("time_per_call: positive, and self-timed calls report their own time", function()
  local calls = 0
  local t = cli.time_per_call(function() calls = calls + 1 end, 10, 3)
  truthy(t >= 0 and t < 1, "seconds per call " .. t)
  eq(calls, 1 + 10 * 3)
  eq(cli.time_per_call(function() return 0.25 end, 4, 3), 0.25)
end)

test("a script given a bad option prints the problem and the usage, status 2", function()
  local out, err, code = H.run(H.root, "scripts/and_gate.lua", {"--epochs", "many"})
  eq(code, 2)
  eq(out, "")
  truthy(err:find("and_gate.lua: %-%-epochs: expected an integer, got 'many'"), err)
  truthy(err:find("usage: actrun scripts/and_gate.lua"), err)
  truthy(not err:find("traceback"), err)
end)

test("--help prints the usage on stdout, status 0", function()
  local out, _, code = H.run(H.root, "scripts/bounded_output_loss.lua", {"--help"})
  eq(code, 0)
  truthy(out:find("usage: actrun scripts/bounded_output_loss.lua") and out:find("%-%-z0 X"), out)
end)

test("checks across options fail the same way", function()
  local _, err, code = H.run(H.root, "scripts/bounded_output_loss.lua", {"--from", "2", "--to", "1"})
  eq(code, 2)
  truthy(err:find("%-%-from must be below %-%-to") and err:find("usage:"), err)
end)

test("plot helpers: line, hist and bar go to actrun.plot; suffixed names", function()
  eq(cli.suffixed("out/g.svg", "i"), "out/g_i.svg")
  eq(cli.suffixed("a.b/g", "x"), "a.b/g_x")
  local calls = {}
  local saved, saved_print = package.loaded["actrun.plot"], print
  package.loaded["actrun.plot"] = {
    line = function(s) calls[#calls + 1] = {"line", s} end,
    hist = function(d, o) calls[#calls + 1] = {"hist", d, o} end,
    bar = function(s) calls[#calls + 1] = {"bar", s} end,
  }
  local printed = {}
  print = function(s) printed[#printed + 1] = s end
  local ok, err = pcall(function()
    truthy(cli.plot_line{series = {}, file = "l.svg"})
    truthy(cli.plot_hist({1, 2, 3}, {bins = 2, file = "h.svg"}))
    truthy(cli.plot_bar{labels = {"a"}, values = {1}})
  end)
  package.loaded["actrun.plot"] = {}
  local ok2, err2 = pcall(function() return cli.plot_bar{values = {1}} end)
  package.loaded["actrun.plot"], print = saved, saved_print
  assert(ok, err)
  assert(ok2, err2)
  eq(#calls, 3, "three plots drawn")
  eq(calls[1][1], "line")
  eq(calls[2][1], "hist")
  eq(calls[2][3].bins, 2)
  eq(calls[3][1], "bar")
  eq(printed[1], "plot: wrote l.svg")
  eq(printed[2], "plot: wrote h.svg")
  eq(printed[3], "plot: actrun.plot is not available in this build", "no plot.bar: said so")
end)

test("benchmark helpers: timed loops, per-call medians, KEY VALUE parsing", function()
  -- the loop binds its operands by name (a nil one keeps its place) and runs n times
  _G.bench_seen = {}
  local run = cli.timed_loop("a, b", "bench_seen[#bench_seen + 1] = b == nil and a or -1")
  local dt = run(5, nil, 3, actrun.clock)
  truthy(math.type(dt) == "float" and dt >= 0, "seconds returned")
  eq(_G.bench_seen, {5, 5, 5})
  _G.bench_seen = {}
  local t = cli.per_call(run, table.pack(7, nil), 1e-4, 3)
  truthy(t >= 0 and #_G.bench_seen >= 5, "warm-up, timing call and 3 samples ran")
  for _, v in ipairs(_G.bench_seen) do eq(v, 7, "operands in place in every call") end
  _G.bench_seen = nil
  -- repeated keys (several runs' outputs concatenated) give their median; # lines are not keys
  local keys = cli.parse_keys("# comment 5 us\na.b 1 us\na.b 3 us\na.b 2 us\nc-d_e.1t 4.5e-1 GB/s\nnot a line\n")
  eq(keys, {["a.b"] = 2, ["c-d_e.1t"] = 0.45})
  local f = os.tmpname()
  T.write_file(f, "x 1 us\n")
  eq(cli.parse_keys(cli.read_file(spec, f, "--report")), {x = 1})
  os.remove(f)
end)

T.done()
