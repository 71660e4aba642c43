-- help finds short names and substrings, suggests near names on a miss, and apropos lists
-- what mentions a word; `actrun help NAME` does the same at the command line.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local help = require "actrun.help"
local test, eq, truthy = T.test, T.eq, T.truthy

test("a short name finds the full one", function()
  eq(help.text("gelu"), help.docs["actrun.act.gelu"])
  eq(help.text("act.gelu"), help.docs["actrun.act.gelu"])
  eq(help.text("Linear"), help.docs["actrun.nn.Linear"])
  eq(help.text("linear"), help.docs["actrun.linear"]) -- an exact actrun.NAME wins
  truthy(help.text("LINEAR"), "case-insensitive as a last resort")
  eq(help.text("kaiming_unif"), help.docs["actrun.nn.init.kaiming_uniform"], "part of one name")
end)

test("a short name shared by several names lists the others", function()
  local text = help.text("train")
  truthy(text:find("^actrun%.lab%.train"), "the shortest first")
  truthy(text:find("(also: actrun.nn.Module.train)", 1, true), "the others named")
end)

test("a miss lists names containing it, or the nearest names", function()
  local text, err = help.text("xavier")
  eq(text, nil)
  truthy(err:find("no documentation for xavier", 1, true), err)
  truthy(err:find("names containing 'xavier': actrun.nn.init.xavier_normal", 1, true), err)
  _, err = help.text("lekay_relu")
  truthy(err:find("did you mean: actrun.act.leaky_relu", 1, true), err)
  _, err = help.text("nrom") -- a transposition is one edit
  truthy(err:find("did you mean: Tensor:norm", 1, true), err)
  _, err = help.text("qqqqqqqqqqq")
  eq(err, "no documentation for qqqqqqqqqqq")
end)

test("search and apropos", function()
  local hits = help.search("norm")
  local set = {}
  for _, h in ipairs(hits) do set[h] = true end
  truthy(set["actrun.nn.BatchNorm"] and set["actrun.nn.LayerNorm"] and set["Tensor:norm"])
  local text = help.apropos_text("norm")
  truthy(text:find("actrun.nn.BatchNorm", 1, true) and text:find("Tensor:norm", 1, true))
  truthy(text:find("actrun.nn.init.kaiming_normal", 1, true), "a mention in the text")
  local none, err = help.apropos_text("zzzqqqzzz")
  eq(none, nil)
  truthy(err:find("nothing documented mentions", 1, true))
  truthy(not pcall(help.apropos_text, ""), "an empty word is an error")
end)

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function run(args)
  local err = os.tmpname()
  local p = assert(io.popen(quote(T.interpreter()) .. " " .. args .. " 2>" .. quote(err), "r"))
  local out = p:read("a")
  local _, _, code = p:close()
  local f = io.open(err, "r")
  local etext = f:read("a")
  f:close()
  os.remove(err)
  return out, etext, code
end

test("actrun help NAME, -k WORD and the command line's hints", function()
  local out, err, code = run("help gelu")
  eq(code, 0, err)
  truthy(out:find("actrun.act.gelu(x)", 1, true), out)
  out, err, code = run("help lekay_relu")
  eq(code, 1)
  truthy(err:find("no documentation for lekay_relu", 1, true), err)
  truthy(err:find("did you mean: actrun.act.leaky_relu", 1, true), err)
  out, err, code = run("help -k norm")
  eq(code, 0, err)
  truthy(out:find("actrun.nn.LayerNorm", 1, true), out)
  out, err, code = run("plot no_such_act")
  eq(code, 1)
  truthy(err:find("(see 'actrun props' or 'actrun help act')", 1, true), err)
  truthy(not err:find("act.list()", 1, true), "no Lua call at the shell")
  out, err, code = run("-e " .. quote("print(type(apropos))"))
  eq(out, "function\n")
end)

T.done()
