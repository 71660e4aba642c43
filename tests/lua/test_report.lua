-- lab.report, lab.compare{report=} and `actrun report CSV`: one self-contained HTML page
-- per comparison. A tiny comparison on spirals (2 activations, 3 seeds, 3 epochs).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local test, eq, truthy = T.test, T.eq, T.truthy
local lab, nn, data, optim = actrun.lab, actrun.nn, actrun.data, actrun.optim

local function spirals(n, seed)
  local X, y = data.spirals{n = n, classes = 3, noise = 0.1, seed = seed}
  return {X = X, y = y}
end

local dir = os.tmpname()
os.remove(dir)
local CSV, HTML, SVG = dir .. "-compare.csv", dir .. "-report.html", dir .. "-compare.svg"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function has(text, needle, what)
  truthy(text:find(needle, 1, true), (what or needle) .. " not in the page")
end

-- The page refers to nothing outside itself: no stylesheet or script files, no images,
-- no network URL except as the target of a plain link.
local function self_contained(text)
  truthy(not text:lower():find("<link", 1, true), "a <link> element")
  truthy(not text:lower():find("src=", 1, true), "a src= attribute")
  truthy(not text:lower():find("@import", 1, true), "a CSS @import")
  local outside = text:gsub('<a href="https?://[^"]*"', "")
  truthy(not outside:find("https?://"), "a network URL outside a link: " ..
    tostring(outside:match("[^\n]*https?://[^\n]*")))
  truthy(not text:find("url%(%s*['\"]?[^#'\")%s]"), "a CSS/SVG url() that is not a fragment")
end

local rows, summary
local saved = io.stdout
local said = {}
io.stdout = {write = function(self, ...) for _, s in ipairs{...} do said[#said + 1] = s end
  return self end, flush = function() end}
local ok, err = pcall(function()
  rows, summary = lab.compare{activations = {"relu", "tanh"}, seeds = 3, epochs = 3,
    batch = 32, model = function(a) return nn.mlp{2, 16, 3, activation = a} end,
    optimizer = function(p) return optim.Adam(p, {lr = 0.02}) end,
    data = {train = spirals(240, 1), test = spirals(120, 2)},
    csv = CSV, plot = SVG, report = HTML, provenance = {task = "spirals <3 classes>"}}
end)
io.stdout = saved

test("compare{report=} writes one self-contained page and says so", function()
  truthy(ok, err)
  truthy(table.concat(said):find("wrote " .. HTML, 1, true), "no 'wrote' line")
  local page = read(HTML)
  truthy(page, "no report at " .. HTML)
  truthy(page:find("^<!DOCTYPE html>"), "not an HTML5 document")
  for _, a in ipairs{"relu", "tanh"} do has(page, ">" .. a .. "<", a) end
  has(page, " ± ", "mean ± CI")
  has(page, "95% CI")
  has(page, "Holm")
  has(page, 'class="tie"', "a tie mark")
  has(page, "<svg", "the inline figure")
  has(page, "f(x) and f'(x)", "the activations' own figure")
  local _, svgs = page:gsub("<svg", "")
  eq(svgs, 3, "the comparison, dead units and gradient ratio, and the activations")
  has(page, "dead hidden units (%)", "the dead-unit panel")
  has(page, "grad first/last (log10)", "the gradient-ratio panel")
  -- ids are the page's: the two figures' clip paths must not collide
  local ids = {}
  for id in page:gmatch(' id="([^"]+)"') do
    truthy(not ids[id], "id " .. id .. " twice")
    ids[id] = true
  end
  has(page, "<style>")
  has(page, "@media print")
  has(page, "max-width")
  has(page, "overflow-x:auto")
  has(page, "How to read this")
  has(page, "minimum detectable difference")
  has(page, "seed 3", "the per-seed table")
  has(page, "spirals &lt;3 classes&gt;", "the escaped provenance")
  has(page, "SIMD level")
  has(page, "actrun " .. actrun.version)
  truthy(not page:find("<?xml", 1, true), "an XML declaration inside HTML")
  self_contained(page)
  -- every activation's colour is plot's palette's, as in compare.svg
  has(page, actrun.plot.palette.colors[1])
  has(page, actrun.plot.palette.colors[2])
  truthy(#page < 2e6, "page size " .. #page)
end)

test("lab.report: the same page from rows alone, summary given or recomputed", function()
  truthy(ok, err)
  local a = lab.report(rows)
  local b = lab.report(rows, {summary = summary, title = "A & B <test>"})
  for _, page in ipairs{a, b} do
    has(page, "<svg")
    has(page, "training and test loss", "the curves' caption")
    self_contained(page)
  end
  has(b, "<title>A &amp; B &lt;test&gt;</title>", "the escaped title")
  -- the recomputed summary ranks and ties as lab.compare did
  local function ranked(page) return page:match('<table class="ranked">.-</table>') end
  eq(ranked(a), ranked(b))
  local file = dir .. "-lab-report.html"
  eq(lab.report(rows, {file = file}), file)
  truthy(read(file):find("<svg", 1, true), "written to the file")
  os.remove(file)
end)

test("lab.report: argument errors name the function and the argument", function()
  truthy(ok, err)
  T.expect_error(function() lab.report(nil) end, "actrun.lab.report", "argument #1 (rows)")
  T.expect_error(function() lab.report({}) end, "actrun.lab.report", "argument #1 (rows)",
    "non-empty")
  T.expect_error(function() lab.report({{seed = 1}}) end, "actrun.lab.report",
    "argument #1 (rows) entry 1")
  T.expect_error(function() lab.report(rows, 3) end, "actrun.lab.report", "argument #2")
  T.expect_error(function() lab.report(rows, {colour = 1}) end, "actrun.lab.report",
    "unknown option 'colour'")
  T.expect_error(function() lab.report(rows, {file = 7}) end, "actrun.lab.report",
    "field file")
  T.expect_error(function() lab.report(rows, {summary = "x"}) end, "actrun.lab.report",
    "field summary")
  T.expect_error(function() lab.report(rows, {file = "/nonexistent-dir/r.html"}) end,
    "actrun.lab.report: /nonexistent-dir/r.html: cannot create a temporary file")
  T.expect_error(function()
    lab.compare{activations = {"relu"}, model = function(a) return nn.mlp{2, 3, activation = a} end,
      data = {train = spirals(30, 1), test = spirals(30, 2)}, report = 1, quiet = true}
  end, "actrun.lab.compare", "option report")
  T.expect_error(function()
    lab.compare{activations = {"relu"}, model = function(a) return nn.mlp{2, 3, activation = a} end,
      data = {train = spirals(30, 1), test = spirals(30, 2)}, quiet = true,
      report = "/nonexistent-dir/r.html"}
  end, "actrun.lab.compare", "option report")
end)

test("actrun report CSV -o FILE: the tables from the CSV, and no curves said so", function()
  truthy(ok, err)
  local exe = T.interpreter()
  if not exe then T.skip("no interpreter path in arg") end
  local out = dir .. "-from-csv.html"
  local p = io.popen(T.shell_quote(exe) .. " report " .. T.shell_quote(CSV) .. " -o " ..
    T.shell_quote(out) .. " 2>&1")
  local text = p:read("a")
  local done = p:close()
  truthy(done, "actrun report failed: " .. text)
  truthy(text:find("wrote " .. out, 1, true), text)
  local page = read(out)
  truthy(page, "no page at " .. out)
  for _, a in ipairs{"relu", "tanh"} do has(page, ">" .. a .. "<", a) end
  has(page, " ± ")
  has(page, 'class="tie"')
  has(page, "seed 3")
  has(page, "not in the CSV", "the missing curves")
  has(page, "spirals &lt;3 classes&gt;", "the CSV's provenance")
  self_contained(page)
  -- the accuracies read back give the ranking lab.compare printed
  local first = page:match('<tr class="best">.-class="sw"[^>]*></span>([^<]+)<')
  eq(first, summary[1].activation)
  os.remove(out)
  -- a missing file and a bad option fail with a message, not a traceback
  p = io.popen(T.shell_quote(exe) .. " report " .. T.shell_quote(dir .. "-none.csv") .. " 2>&1")
  text = p:read("a")
  truthy(not p:close() and text:find("cannot read", 1, true), text)
  p = io.popen(T.shell_quote(exe) .. " report --bogus 2>&1")
  text = p:read("a")
  truthy(not p:close() and text:find("unknown option", 1, true), text)
end)

test("lab.report: a regression (no accuracy) gets a page without a paired test", function()
  local X = actrun.randn(64, 3)
  local y = X:sum(2, true)
  local rrows = lab.compare{activations = {"relu", "tanh"}, seeds = 2, epochs = 2, batch = 16,
    quiet = true, loss = nn.mse,
    model = function(a) return nn.mlp{3, 8, 1, activation = a} end,
    data = {train = {X = X, y = y}, test = {X = X, y = y}}}
  local page = lab.report(rrows)
  has(page, "No test accuracy")
  has(page, ">tanh<")
  self_contained(page)
end)

test("report.read_csv: quoted fields, numbers, and what is not lab.compare's CSV", function()
  local R = require "actrun.report"
  local f = dir .. "-q.csv"
  local h = io.open(f, "w")
  h:write('activation,seed,test_accuracy,task\n"a,""b""",1,0.5,"two\nlines"\nx,2,nan,\n')
  h:close()
  local got = R.read_csv(f)
  eq(#got, 2)
  eq({got[1].activation, got[1].seed, got[1].test_accuracy, got[1].task},
    {'a,"b"', 1, 0.5, "two\nlines"})
  truthy(got[2].test_accuracy ~= got[2].test_accuracy and got[2].task == nil, "nan, empty")
  h = io.open(f, "w")
  h:write("name,value\nrelu,1\n")
  h:close()
  local none, why = R.read_csv(f)
  truthy(none == nil and why:find("no activation column", 1, true), why)
  os.remove(f)
end)

for _, f in ipairs{CSV, HTML, SVG} do os.remove(f) end
T.done()
