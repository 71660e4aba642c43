-- scripts/search_activations.lua (Ramachandran et al. 2017): the exhaustive search over one
-- core unit on the synthetic task, its table, the swish-like test and the verdict.
local dir = arg[0]:match("^(.*)/") or "."
package.path = dir .. "/?.lua;" .. dir .. "/../lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "script_runner"

local test = T.test

test("--quick on a smaller space: every candidate ranked, swish found and placed, a verdict", function()
  local r, out = R.run("scripts/search_activations.lua", {"--quick", "--epochs", "4",
    "--unary", "x,tanh,sigmoid,relu", "--binary", "add,mul", "--top", "3"})
  T.truthy(#r.results >= 10, "candidates " .. #r.results)
  T.eq(r.results[1].rank, 1)
  T.truthy(r.swish_rank and r.swish_rank >= 1 and r.swish_rank <= #r.results, "swish ranked")
  T.truthy(r.best_swish and r.best_swish.swish_like, "a swish-like candidate")
  -- relu-shaped candidates are not swish-like: max(x, relu(x)) is relu, add(relu, relu) 2 relu
  for _, c in ipairs(r.results) do
    if c.expr == "add(relu(x), relu(x))" or c.expr == "mul(x, x)" then
      T.truthy(not c.swish_like, c.expr .. " is not swish-like")
    end
  end
  T.truthy(out:find("rank +candidate +mean %%"), "the table:\n" .. out)
  T.truthy(out:find("\n *ref +relu"), "relu's row")
  T.truthy(out:find("\nverdict: [A-Z ]+\n"), "verdict line:\n" .. out)
  T.truthy(r.verdict == "SUPPORTED" or r.verdict == "MIXED" or r.verdict == "NOT SUPPORTED")
  T.truthy(out:find("mul%(x, sigmoid%(x%)%) ranks %d+"), "where swish ranks")
end)

test("command line: --help, a bad primitive", function()
  R.check_command_line(T, "scripts/search_activations.lua", {"--unary", "x,bogus"},
    "unknown primitive 'bogus'")
end)

T.done()
