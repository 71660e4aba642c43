-- actrun.plot: SVG files (well-formed, mapped correctly), terminal braille rendering,
-- ticks, histograms against brute force, activation curves, and every error message.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local T = require "testlib"
local actrun = T.actrun
local plot = actrun.plot
local test, eq, near, expect_error = T.test, T.eq, T.near, T.expect_error

local nan = 0 / 0
local tmpdir = os.tmpname()
os.remove(tmpdir)
assert(os.execute("mkdir -p '" .. tmpdir .. "'"))
local function tmp(name) return tmpdir .. "/" .. name end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function count(s, pat)
  local n = 0
  for _ in s:gmatch(pat) do n = n + 1 end
  return n
end

-- A small XML checker: tags balance, attributes are quoted, text and attribute values
-- hold no raw '<' and only known entities after '&'.
local function check_xml(s)
  local stack, pos = {}, 1
  s = s:gsub("^<%?xml[^>]*%?>%s*", "")
  local function check_text(txt, where)
    if txt:find("<", 1, true) then error("raw '<' in " .. where) end
    for ent in txt:gmatch("&([^;%s]*);?") do
      if not (ent == "amp" or ent == "lt" or ent == "gt" or ent == "quot" or ent == "#39") then
        error("bad entity '&" .. ent .. "' in " .. where)
      end
    end
  end
  while pos <= #s do
    local a, b = s:find("<", pos, true)
    if not a then
      check_text(s:sub(pos), "trailing text")
      break
    end
    check_text(s:sub(pos, a - 1), "text")
    local close = s:find(">", a, true)
    if not close then error("unclosed tag at " .. a) end
    local tag = s:sub(a + 1, close - 1)
    if tag:sub(1, 1) == "/" then
      local name = tag:sub(2)
      local top = table.remove(stack)
      if top ~= name then error(("closing </%s> but <%s> is open"):format(name, tostring(top))) end
    else
      local selfclose = tag:sub(-1) == "/"
      if selfclose then tag = tag:sub(1, -2) end
      local name, attrs = tag:match("^([%w:%-]+)(.*)$")
      if not name then error("bad tag <" .. tag .. ">") end
      local rest = attrs:gsub('%s+[%w:%-]+="[^"]*"', function(attr)
        check_text(attr:match('"(.*)"'), "attribute of <" .. name .. ">")
        return ""
      end)
      if rest:match("%S") then error("unquoted or malformed attributes in <" .. name .. ">: " .. rest) end
      if not selfclose then stack[#stack + 1] = name end
    end
    pos = close + 1
  end
  if #stack > 0 then error("unclosed <" .. stack[#stack] .. ">") end
  return true
end

local function xmllint_ok(path)
  if not os.execute("command -v xmllint >/dev/null 2>&1") then return nil end
  return os.execute("xmllint --noout '" .. path .. "' 2>/dev/null") == true
end

-- Plot frames (x, y, w, h) and the series paths' subpaths (lists of {x, y}).
local function frames(svg)
  local list = {}
  for x, y, w, h in svg:gmatch('<rect x="([%d%.%-]+)" y="([%d%.%-]+)" width="([%d%.]+)" height="([%d%.]+)" fill="none" stroke="#333333"') do
    list[#list + 1] = {x = tonumber(x), y = tonumber(y), w = tonumber(w), h = tonumber(h)}
  end
  return list
end

local function series_paths(svg)
  local list = {}
  for d in svg:gmatch('<path class="series"[^>]- d="([^"]*)"') do
    local subs = {}
    for sub in d:gmatch("M[^M]*") do
      local pts = {}
      for x, y in sub:gmatch("([%-%d%.]+) ([%-%d%.]+)") do pts[#pts + 1] = {tonumber(x), tonumber(y)} end
      subs[#subs + 1] = pts
    end
    list[#list + 1] = subs
  end
  return list
end

---------------------------------------------------------------------------------------
test("ticks: 1-2-5 steps for linear ranges", function()
  local v, l = plot.ticks(0, 1)
  eq(l, {"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"})
  for i, x in ipairs(v) do near(x, (i - 1) * 0.2, 1e-12) end
  v, l = plot.ticks(-5, 5)
  eq(l, {"-4", "-2", "0", "2", "4"})
  for _, r in ipairs({{0, 1}, {-5, 5}, {3, 17}, {0.001, 0.0013}, {-1e7, 3e7}, {-0.02, 0.07}, {1, 1e9}}) do
    local t = plot.ticks(r[1], r[2])
    T.truthy(#t >= 2 and #t <= 10, "2..10 ticks for " .. r[1] .. ".." .. r[2] .. ", got " .. #t)
    local step = t[2] - t[1]
    local m = step / 10 ^ math.floor(math.log(step, 10) + 1e-9)
    T.truthy(math.abs(m - 1) < 1e-6 or math.abs(m - 2) < 1e-6 or math.abs(m - 5) < 1e-6,
      "step " .. step .. " is 1, 2 or 5 times a power of ten")
    for i, x in ipairs(t) do
      T.truthy(x >= r[1] - 1e-12 and x <= r[2] + 1e-12, "tick inside the range")
      if i > 1 then near(x - t[i - 1], step, 1e-9) end
    end
  end
  eq(select(2, plot.ticks(-1e7, 3e7)), {"-1e7", "0", "1e7", "2e7", "3e7"})
end)

test("ticks: log axes use powers of ten, every k decades", function()
  local v, l = plot.ticks(1e-8, 1e3, {log = true})
  eq(l, {"1e-8", "1e-6", "1e-4", "0.01", "1", "100"})
  for i, x in ipairs(v) do near(x, 10.0 ^ (-8 + 2 * (i - 1)), 1e-9) end
  v, l = plot.ticks(1, 50, {log = true})
  eq(l, {"1", "2", "5", "10", "20", "50"})
  v, l = plot.ticks(1e-3, 1e3, {log = true})
  eq(l, {"0.001", "0.01", "0.1", "1", "10", "100", "1000"})
end)

---------------------------------------------------------------------------------------
test("line SVG: well-formed, title, escaped legend labels, one path per series", function()
  local path = tmp("line.svg")
  local r = plot.line{series = {
      {y = {1, 4, 2, 8, 5, 7}, label = "relu"},
      {x = {1, 2, 3, 4, 5, 6}, y = {2, 2, 3, nan, 4, 1}, label = "b & <c>"}},
    title = "Loss <by epoch>", xlabel = "epoch", ylabel = "loss", file = path, markers = true}
  eq(r, path)
  local svg = read(path)
  T.truthy(check_xml(svg))
  local lint = xmllint_ok(path)
  if lint ~= nil then T.truthy(lint, "xmllint accepts the file") end
  T.truthy(svg:find("<svg", 1, true) and svg:find('viewBox="0 0 ', 1, true), "an svg with a viewBox")
  T.truthy(svg:find('fill="#ffffff"', 1, true), "white background")
  T.truthy(svg:find(">Loss &lt;by epoch&gt;<", 1, true), "escaped title")
  T.truthy(svg:find(">b &amp; &lt;c&gt;<", 1, true), "escaped legend label")
  T.truthy(svg:find(">relu<", 1, true), "legend label")
  T.truthy(svg:find(">epoch<", 1, true) and svg:find(">loss<", 1, true), "axis labels")
  eq(count(svg, '<path class="series"'), 2, "series paths")
  eq(count(svg, 'marker%-mid="url%(#actrun%-mk%-'), 2, "markers at every point (markers=true)")
  T.truthy(svg:find('stroke-dasharray', 1, true), "the second series is dashed")
  -- the NaN splits series 2 in two pieces: points 1-3 and 5-6
  local paths = series_paths(svg)
  eq(#paths[1], 1)
  eq(#paths[2], 2, "NaN gap")
  eq(#paths[2][1], 3)
  eq(#paths[2][2], 2)
end)

test("line SVG: any label text gives well-formed XML; legend=false hides the legend", function()
  local path = tmp("odd.svg")
  plot.line{series = {{y = {1, 2}, label = "bad \255\254 bytes\1 & \"quotes\""}, {y = {2, 1}, label = "µ ünïcode"}},
    title = "x < y > z", file = path}
  local svg = read(path)
  T.truthy(check_xml(svg))
  local lint = xmllint_ok(path)
  if lint ~= nil then T.truthy(lint, "xmllint accepts the file") end
  T.truthy(svg:find("µ ünïcode", 1, true), "valid UTF-8 is kept")
  T.truthy(svg:find('class="legend"', 1, true))
  plot.line{series = {{y = {1, 2}, label = "a"}}, legend = false, file = path}
  T.truthy(not read(path):find('class="legend"', 1, true), "no legend")
end)

test("line SVG: data min/max lie on the bottom/top edges of the plot area", function()
  local path = tmp("map.svg")
  plot.line{series = {{x = {10, 20, 30, 40}, y = {-3, 7, 2, 5}}}, file = path}
  local svg = read(path)
  local f = frames(svg)[1]
  local pts = series_paths(svg)[1][1]
  eq(#pts, 4)
  near(pts[1][1], f.x, 0.051, "first x at the left edge")
  near(pts[4][1], f.x + f.w, 0.051, "last x at the right edge")
  near(pts[2][2], f.y, 0.051, "max y at the top")
  near(pts[1][2], f.y + f.h, 0.051, "min y at the bottom")
  -- linear in between: y=2 is half way between -3 and 7
  near(pts[3][2], f.y + f.h / 2, 0.051)
  near(pts[2][1], f.x + f.w / 3, 0.051)
  -- an explicit yrange moves the top
  plot.line{series = {{x = {10, 20, 30, 40}, y = {-3, 7, 2, 5}}}, yrange = {-3, 17}, file = path}
  svg = read(path)
  f = frames(svg)[1]
  pts = series_paths(svg)[1][1]
  near(pts[2][2], f.y + f.h / 2, 0.051, "7 is half way up on -3..17")
end)

test("line SVG: log axis places decades evenly and skips non-positive values", function()
  local path = tmp("log.svg")
  plot.line{series = {{y = {1e-8, 1e-4, 1, 0, -1, 1e4}}}, ylog = true, file = path}
  local svg = read(path)
  T.truthy(check_xml(svg))
  local f = frames(svg)[1]
  local subs = series_paths(svg)[1]
  eq(#subs, 2, "the non-positive values break the line")
  local pts = subs[1]
  near(pts[1][2], f.y + f.h, 0.051)
  near(pts[2][2], f.y + f.h * 2 / 3, 0.051)
  near(pts[3][2], f.y + f.h / 3, 0.051)
  near(subs[2][1][2], f.y, 0.051)
  T.truthy(svg:find("ylog: 2 non-positive y values skipped", 1, true), "a note says what was skipped")
end)

test("line: a long tensor series is decimated in C and keeps its extremes", function()
  actrun.manual_seed(3)
  local y = actrun.randn(1000000)
  y[500123] = 50
  y[700321] = -40
  y[800000] = nan
  local path = tmp("big.svg")
  local t0 = actrun.clock()
  plot.line{series = {{y = y, label = "noise"}}, file = path}
  local svg = read(path)
  local f = frames(svg)[1]
  local subs = series_paths(svg)[1]
  local n, top, bottom = 0, false, false
  for _, s in ipairs(subs) do
    for _, p in ipairs(s) do
      n = n + 1
      if math.abs(p[2] - f.y) < 0.06 then top = true; near(p[1], f.x + f.w * (500123 - 1) / (1000000 - 1), 0.2) end
      if math.abs(p[2] - (f.y + f.h)) < 0.06 then bottom = true end
    end
  end
  T.truthy(n < 10000, "at most a few points per bucket, got " .. n)
  T.truthy(top and bottom, "the maximum and minimum survive decimation")
  eq(#subs, 2, "the NaN still breaks the line")
  T.truthy(actrun.clock() - t0 < 20, "no element loop in Lua")
end)

---------------------------------------------------------------------------------------
-- The canvas part of a terminal plot: the text after the axis character of each row.
local function canvas_rows(text)
  local rows = {}
  for line in text:gmatch("[^\n]*") do
    local _, e = line:find("┤", 1, true)
    if not e then _, e = line:find("│", 1, true) end
    if e then rows[#rows + 1] = line:sub(e + 1) end
  end
  return rows
end

local function cells(row)
  local list = {}
  for _, c in utf8.codes(row) do list[#list + 1] = c end
  return list
end

test("terminal: a rectangle hits exactly the expected braille dots", function()
  local text = plot.line{series = {{x = {0, 1, 1, 0, 0}, y = {1, 1, 0, 0, 1}}},
    width = 30, height = 10, print = false, color = false}
  local rows = canvas_rows(text)
  T.truthy(#rows >= 4, "plot rows")
  local first, last = cells(rows[1]), cells(rows[#rows])
  local W = #first
  T.truthy(W >= 10, "canvas width")
  -- corners: top-left has the top dots and the left column, etc.
  eq(first[1], 0x2800 + 0x4F, "top-left cell")
  eq(first[W], 0x2800 + 0xB9, "top-right cell")
  eq(last[1], 0x2800 + 0xC7, "bottom-left cell")
  eq(last[W], 0x2800 + 0xF8, "bottom-right cell")
  for c = 2, W - 1 do
    eq(first[c], 0x2800 + 0x09, "top edge cell " .. c)
    eq(last[c], 0x2800 + 0xC0, "bottom edge cell " .. c)
  end
  for r = 2, #rows - 1 do
    local row = cells(rows[r])
    eq(row[1], 0x2800 + 0x47, "left edge, row " .. r)
    eq(#row, W, "row width")
    eq(row[W], 0x2800 + 0xB8, "right edge, row " .. r)
    for c = 2, W - 1 do eq(row[c], 32, "inside is blank") end
  end
end)

test("terminal: NaN leaves a gap, ticks and legend are drawn, print=false returns only", function()
  local text = plot.line{series = {{x = {1, 2, 3, 4, 5}, y = {0, 0, nan, 0, 0}, label = "gap"}},
    yrange = {0, 1}, width = 42, height = 10, print = false, color = false}
  local rows = canvas_rows(text)
  local bottom = cells(rows[#rows])
  local W = #bottom
  local mid = W // 2 + 1 -- x = 3
  eq(bottom[mid], 32, "no dot at the NaN")
  T.truthy(bottom[1] ~= 32 and bottom[W] ~= 32, "the two pieces are drawn")
  T.truthy(text:find("gap", 1, true), "legend")
  T.truthy(text:find("1.0 ┤", 1, true) and text:find("0.0 ┤", 1, true), "y tick labels")
  T.truthy(text:find("└", 1, true) and text:find("┬", 1, true), "x axis with ticks")
  T.truthy(not text:find("\27", 1, true), "no colour when asked for none")
end)

test("terminal: prints what it returns; colour and ASCII options", function()
  local path = tmp("stdout.txt")
  local f = assert(io.open(path, "w"))
  local old = io.output()
  io.output(f)
  local ok, text = pcall(plot.line, {series = {{y = {1, 3, 2}}}, width = 40, height = 8, color = false})
  io.output(old)
  f:close()
  T.truthy(ok, tostring(text))
  eq(read(path), text, "printed text equals the returned string")
  local colored = plot.line{series = {{y = {1, 3, 2}, label = "a"}, {y = {2, 1, 3}, label = "b"}},
    width = 40, height = 8, color = true, print = false}
  T.truthy(colored:find("\27[34m", 1, true) and colored:find("\27[31m", 1, true), "ANSI colours")
  local ascii = plot.line{series = {{y = {1, 3, 2}, label = "a"}, {y = {2, 1, 3}, label = "b"}},
    width = 40, height = 8, ascii = true, print = false}
  T.truthy(not ascii:find("[\128-\255]"), "only ASCII characters")
  T.truthy(ascii:find("*", 1, true) and ascii:find("+", 1, true), "one mark per series")
  eq(type(require("actrun.plot_c").isatty(1)), "boolean")
  -- default size: COLUMNS, else the terminal's width, else 80 columns
  local C = require "actrun.plot_c"
  local tc, tr = C.term_size(1)
  T.truthy(tc == nil or (math.type(tc) == "integer" and math.type(tr) == "integer"), "term_size")
  local cols = tonumber(os.getenv("COLUMNS") or "") or C.term_size(1) or C.term_size(2) or 80
  local wide = plot.line{series = {{y = {1, 2}}}, print = false, color = false}
  local widest = 0
  for line in wide:gmatch("[^\n]+") do
    T.truthy(utf8.len(line) <= cols, "line fits in " .. cols .. " columns")
    widest = math.max(widest, utf8.len(line))
  end
  T.truthy(widest > cols - 8, "the figure uses the width (" .. widest .. " of " .. cols .. ")")
end)

test("plot.hist{data=...}: the options where the data belongs, said so", function()
  local ok, err = pcall(plot.hist, {data = {1, 2, 3}, bins = 3})
  eq(ok, false)
  T.truthy(tostring(err):find("argument #1 (data) is a table of options (bins, data), not data: " ..
    "call plot.hist(data, {bins=, ...})", 1, true), tostring(err))
  ok, err = pcall(plot.hist, {})
  T.truthy(tostring(err):find("argument #1 (data) is empty", 1, true), tostring(err))
end)

test("a drawn figure is noted as displayed (the REPL does not echo it)", function()
  local util = require "actrun.util"
  local path = tmp("noted.txt")
  local f = assert(io.open(path, "w"))
  local old = io.output()
  io.output(f)
  util.displayed_clear()
  local ok, counts, edges, text = pcall(plot.hist, {1, 2, 2, 3}, {bins = 3, width = 40,
    height = 8, color = false})
  io.output(old)
  f:close()
  T.truthy(ok, tostring(counts))
  local noted = {}
  for _, v in ipairs(util.displayed_list()) do noted[v] = true end
  T.truthy(noted[text] and noted[counts] and noted[edges], "text, counts and edges noted")
  util.displayed_clear()
  plot.line{series = {{y = {1, 2}}}, print = false}
  eq(#util.displayed_list(), 0, "a figure not printed is not noted")
  local repl = require "actrun.repl"
  util.displayed("shown")
  eq(repl.results("shown", 5, "other"), {"5", "other"})
  util.displayed_clear()
end)

---------------------------------------------------------------------------------------
local function brute(data, edges)
  local counts = {}
  local bins = #edges - 1
  for i = 1, bins do counts[i] = 0 end
  for _, v in ipairs(data) do
    for i = 1, bins do
      if v >= edges[i] and (v < edges[i + 1] or (i == bins and v == edges[i + 1])) then
        counts[i] = counts[i] + 1
        break
      end
    end
  end
  return counts
end

test("hist: counts equal a brute-force count; edges and range", function()
  local data = {0.5, 1, 1.5, 2, 2, 3, 7, -1, 0.1, 6.99, 2.4, nan}
  local counts, edges, text = plot.hist(data, {bins = 4, print = false})
  eq(#edges, 5)
  near(edges[1], -1, 0)
  near(edges[5], 7, 0)
  eq(counts, brute(data, edges))
  eq(counts, {3, 5, 1, 2})
  T.truthy(text:find("1 non-finite value not counted", 1, true), "note about the NaN")
  -- tensor input, values at the exact edges, and an explicit range
  actrun.manual_seed(1)
  local t = actrun.randn(5000)
  local tv = t:totable()
  for bins = 1, 37, 6 do
    local c, e = plot.hist(t, {bins = bins, print = false})
    eq(c, brute(tv, e), "bins = " .. bins)
  end
  local c, e = plot.hist(t, {bins = 10, range = {-1, 1}, print = false})
  eq(c, brute(tv, e))
  near(e[1], -1, 0)
  near(e[11], 1, 0)
  local inside = 0
  for _, v in ipairs(tv) do if v >= -1 and v <= 1 then inside = inside + 1 end end
  local s = 0
  for _, k in ipairs(c) do s = s + k end
  eq(s, inside, "values outside the range are not counted")
  c, e = plot.hist({0, 0.25, 0.5, 0.75, 1}, {bins = 4, print = false})
  eq(c, {1, 1, 1, 2}, "edges belong to the bin they start; the last bin is closed")
end)

test("hist: 10^6 elements sum to n (binned in C), SVG has the bars", function()
  actrun.manual_seed(2)
  local t = actrun.randn(1000, 1000)
  local path = tmp("hist.svg")
  local t0 = actrun.clock()
  local counts, edges, r = plot.hist(t, {bins = 50, file = path, title = "randn"})
  T.truthy(actrun.clock() - t0 < 20)
  eq(r, path)
  local s = 0
  for _, k in ipairs(counts) do s = s + k end
  eq(s, 1000000)
  eq(#counts, 50)
  near(edges[1], t:min():item(), 1e-6)
  near(edges[51], t:max():item(), 1e-6)
  local svg = read(path)
  T.truthy(check_xml(svg))
  local bars = svg:match('<path class="bars"[^>]- d="([^"]*)"')
  eq(count(bars, "M"), count(bars, "z"))
  local nonzero = 0
  for _, k in ipairs(counts) do if k > 0 then nonzero = nonzero + 1 end end
  eq(count(bars, "M"), nonzero, "one rectangle per non-empty bin")
  -- a NaN in a big tensor is skipped, not counted
  t:view(-1)[10] = nan
  counts = plot.hist(t, {bins = 7, print = false})
  s = 0
  for _, k in ipairs(counts) do s = s + k end
  eq(s, 999999)
end)

---------------------------------------------------------------------------------------
test("activations: relu' is 0 on the left and 1 on the right (two SVG panels)", function()
  local path = tmp("act.svg")
  eq(plot.activations{names = {"relu", "tanh"}, file = path}, path)
  local svg = read(path)
  T.truthy(check_xml(svg))
  local fr = frames(svg)
  eq(#fr, 2, "two panels: f and f'")
  eq(count(svg, '<path class="series"'), 4)
  T.truthy(svg:find(">f'(x)<", 1, true) and svg:find(">f(x)<", 1, true), "panel titles")
  local paths = series_paths(svg)
  local d = fr[2]
  local relu_d = paths[3][1]
  local left, right = 0, 0
  for _, p in ipairs(relu_d) do
    local xm = d.x + d.w / 2
    if p[1] < xm - 1 then
      near(p[2], d.y + d.h, 0.051, "relu' = 0 (the bottom of 0..1) left of 0")
      left = left + 1
    elseif p[1] > xm + 1 then
      near(p[2], d.y, 0.051, "relu' = 1 (the top) right of 0")
      right = right + 1
    end
  end
  T.truthy(left > 100 and right > 100, "many points on each side")
  -- relu itself: 0 on the left, 5 (the top) at x = 5
  local f = fr[1]
  local relu = paths[1][1]
  near(relu[#relu][2], f.y, 0.051)
end)

test("activations: terminal panels, derivative modes, params and defined activations", function()
  local text = plot.activations{names = "relu,sigmoid", width = 80, height = 16, print = false, color = false}
  T.truthy(text:find("f(x)", 1, true) and text:find("f'(x)", 1, true), "two panels")
  T.truthy(text:find("relu", 1, true) and text:find("sigmoid", 1, true), "legend")
  text = plot.activations{names = {"tanh"}, derivative = false, width = 60, height = 12, print = false}
  T.truthy(not text:find("f'(x)", 1, true))
  local path = tmp("both.svg")
  plot.activations{names = {"tanh", "elu"}, derivative = "both", file = path, params = {elu = {alpha = 2}}}
  local svg = read(path)
  eq(count(svg, '<path class="series"'), 4)
  T.truthy(svg:find(">elu(alpha=2)'<", 1, true), "derivative labelled with a prime and params")
end)

test("activations: a Lua-defined activation gets its derivative from autograd", function()
  if not actrun.act.define then T.skip("act.define is not in this build") end
  local path = tmp("defined.svg")
  actrun.act.define("plot_test_sq", function(x) return x * x end)
  do
    plot.activations{names = {"plot_test_sq"}, derivative = "only", from = -1, to = 1, file = path}
    svg = read(path)
    local f = frames(svg)[1]
    local pts = series_paths(svg)[1][1]
    near(pts[1][2], f.y + f.h, 0.051, "2x = -2 at the bottom")
    near(pts[#pts][2], f.y, 0.051, "2x = 2 at the top")
  end
end)

---------------------------------------------------------------------------------------
test("bar: horizontal bars, log scale, terminal", function()
  local path = tmp("bar.svg")
  plot.bar{labels = {"fc1", "fc2 <out>", "fc3"}, values = {1e-3, 0.5, 0}, log = true,
    title = "gradient norms", file = path}
  local svg = read(path)
  T.truthy(check_xml(svg))
  eq(count(svg, '<rect class="bar"'), 2, "the non-positive value is not drawn on a log axis")
  T.truthy(svg:find("log: 1 non-positive value not drawn", 1, true))
  T.truthy(svg:find(">fc2 &lt;out&gt;<", 1, true))
  local text = plot.bar{labels = {"relu", "tanh"}, values = {0.9, 0.45}, width = 50, print = false, color = false}
  local l1, l2 = text:match("relu │([^\n]*)"), text:match("tanh │([^\n]*)")
  T.truthy(l1 and l2, "bars drawn")
  local b1, b2 = count(l1, "█"), count(l2, "█")
  T.truthy(b1 > 10, "a long bar")
  near(b2 / b1, 0.5, 0.1, "bar lengths are proportional")
end)

test("grid: panels side by side in one SVG, a line option table reused as a panel", function()
  local loss = {series = {{y = {2, 1.5, 1.1}, label = "relu"}, {y = {2.2, 1.9, 1.6}, label = "tanh"}},
    title = "loss", xlabel = "epoch"}
  local acc = {series = {{y = {0.5, 0.7, 0.8}, label = "relu"}}, title = "accuracy", yrange = {0, 1}}
  local path = tmp("grid.svg")
  eq(plot.grid{plots = {loss, acc, {type = "hist", data = {1, 2, 2, 3}, bins = 3},
    {type = "bar", labels = {"a", "b"}, values = {1, 2}}}, columns = 2, title = "compare", file = path}, path)
  local svg = read(path)
  T.truthy(check_xml(svg))
  eq(#frames(svg), 4)
  eq(count(svg, '<path class="series"'), 3)
  T.truthy(svg:find(">compare<", 1, true) and svg:find(">accuracy<", 1, true))
  local text = plot.grid{plots = {loss, acc}, width = 100, height = 14, print = false, color = false}
  T.truthy(text:find("loss", 1, true) and text:find("accuracy", 1, true))
  local lines = 0
  for line in text:gmatch("[^\n]*\n") do
    lines = lines + 1
    T.truthy(utf8.len(line) <= 101, "fits the width")
  end
  T.truthy(lines <= 14, "fits the height")
end)

---------------------------------------------------------------------------------------
-- Figures a reader can trust: every series its own style, estimates with error bars on
-- a zoomed axis, spreads as bands that are not series.

-- The elements of an SVG with class="series" (any tag) and their attributes.
local function series_elements(svg)
  local list = {}
  for tag in svg:gmatch("<%a+[^>]-%sclass=\"series\"[^>]*>") do
    local attrs = {}
    for k, v in tag:gmatch('([%w:%-]+)="([^"]*)"') do attrs[k] = v end
    list[#list + 1] = attrs
  end
  return list
end

-- The shape a <marker> draws, by the id a series refers to with url(#id).
local function marker_shape(svg, ref)
  local id = ref and ref:match("^url%(#(.-)%)$")
  if not id then return nil end
  local a = svg:find('<marker id="' .. id:gsub("%-", "%%-") .. '"')
  if not a then return nil end
  return svg:match('<path d="([^"]*)"', a)
end

-- (stroke, dash, marker shape) of every series element; the shape comes from the
-- <marker> the series refers to.
local function style_triples(svg)
  local triples = {}
  for _, e in ipairs(series_elements(svg)) do
    local shape = marker_shape(svg, e["marker-start"] or e["marker-mid"] or e["marker-end"])
    T.truthy(shape, "the series' marker is defined in <defs>")
    triples[#triples + 1] = {stroke = e.stroke, dash = e["stroke-dasharray"] or "", marker = shape}
  end
  return triples
end

local function many_series(n, band)
  local series = {}
  for i = 1, n do
    local y, lo, hi = {}, {}, {}
    for e = 1, 6 do
      y[e] = 2 / e + 0.02 * i
      lo[e], hi[e] = y[e] - 0.01, y[e] + 0.01
    end
    series[i] = {x = {1, 2, 3, 4, 5, 6}, y = y, label = "act" .. i, band = band and {lo = lo, hi = hi} or nil}
  end
  return series
end

test("styles: 13 series are 13 class=\"series\" paths with distinct (stroke, dash, marker)", function()
  local path = tmp("thirteen.svg")
  plot.line{series = many_series(13, true), title = "loss", xlabel = "epoch", pad = true, file = path}
  local svg = read(path)
  T.truthy(check_xml(svg))
  local triples = style_triples(svg)
  eq(#triples, 13, "one series element per curve (bands and legend swatches are not series)")
  for i = 1, 13 do
    for j = i + 1, 13 do
      local a, b = triples[i], triples[j]
      T.truthy(a.stroke ~= b.stroke or a.dash ~= b.dash or a.marker ~= b.marker,
        ("series %d and %d share stroke, dash and marker"):format(i, j))
    end
  end
  -- every series has a marker and its legend entry
  for _, e in ipairs(series_elements(svg)) do
    T.truthy(e["marker-start"] and e["marker-end"], "markers at the ends")
  end
  for i = 1, 13 do T.truthy(svg:find(">act" .. i .. "<", 1, true), "legend names act" .. i) end
  -- bands: one per series, filled, never a series
  eq(count(svg, 'class="band"'), 13)
  for tag in svg:gmatch('<[^>]-class="band"[^>]*>') do
    T.truthy(not tag:find("series", 1, true), "a band is not a series")
  end
end)

test("styles: the palette keeps 24 series apart, and series of one colour differ in dash and marker", function()
  local path = tmp("many.svg")
  plot.line{series = many_series(24), file = path, width = 1000, height = 700}
  local svg = read(path)
  local triples = style_triples(svg)
  eq(#triples, 24)
  local seen = {}
  for i, t in ipairs(triples) do
    local key = t.stroke .. "|" .. t.dash .. "|" .. t.marker
    T.truthy(not seen[key], "series " .. i .. " repeats series " .. tostring(seen[key]))
    seen[key] = i
    for j = 1, i - 1 do
      if triples[j].stroke == t.stroke then
        T.truthy(triples[j].dash ~= t.dash and triples[j].marker ~= t.marker,
          ("series %d and %d: one colour, so dash and marker must both differ"):format(j, i))
      end
    end
  end
  eq(#plot.palette.colors, 8)
  T.truthy(#plot.palette.dashes >= 4 and #plot.palette.markers >= 6)
end)

test("interval: estimates with error bars on a zoomed axis, tags, terminal", function()
  local path = tmp("acc.svg")
  local values, lo, hi, labels = {}, {}, {}, {}
  for i = 1, 13 do
    values[i] = 88.6 - 0.2 * i
    lo[i], hi[i] = values[i] - 0.3, values[i] + 0.3
    labels[i] = "act" .. i
  end
  local tags = {}
  for i = 1, 13 do tags[i] = i == 1 and "best" or i <= 3 and "= best" or "" end
  plot.grid{plots = {{type = "interval", labels = labels, values = values, lo = lo, hi = hi,
    tags = tags, title = "test accuracy", xlabel = "test accuracy (%)",
    note = {"error bars: 95% CI", "= best: tied with the best"}}},
    columns = 1, file = path}
  local svg = read(path)
  T.truthy(check_xml(svg))
  eq(count(svg, 'class="errorbar"'), 13, "an error bar per estimate")
  eq(#series_elements(svg), 0, "error bars and points are not series")
  eq(count(svg, ">[%d.]+ ± 0%.30  = best<"), 2, "tie marker on the tied rows")
  T.truthy(svg:find(" best</text>", 1, true))
  -- the axis is zoomed to the data: its tick labels stay within the intervals' span
  local f = frames(svg)[1]
  local ticks = {}
  for x, y, label in svg:gmatch('<text x="([%d.]+)" y="([%d.]+)" text%-anchor="middle">([%d.]+)</text>') do
    if math.abs(tonumber(y) - (f.y + f.h + 19)) < 0.5 then ticks[#ticks + 1] = tonumber(label) end
  end
  T.truthy(#ticks >= 2, "x tick labels found")
  for _, v in ipairs(ticks) do
    T.truthy(v > 80 and v < 90, "tick " .. v .. " inside the zoomed 80-90 axis (not from 0)")
  end
  -- an error bar is one path from lo to hi with caps
  local d = svg:match('class="errorbar"[^>]- d="M([%d.]+) [%d.]+H([%d.]+)')
  T.truthy(d, "error bar path")
  local text = plot.grid{plots = {{type = "interval", labels = {"a", "b"}, values = {85, 86},
    lo = {84, 85.5}, hi = {86, 86.5}}}, width = 60, height = 10, print = false, color = false}
  T.truthy(text:find("a │", 1, true) and text:find("86.00 ± 0.50", 1, true), text)
end)

test("files: written atomically, overwritten, no temporaries left", function()
  local path = tmp("atomic.svg")
  plot.line{series = {{y = {1, 2}}}, file = path}
  plot.line{series = {{y = {3, 1}}}, title = "second", file = path}
  T.truthy(read(path):find(">second<", 1, true))
  local p = io.popen("ls '" .. tmpdir .. "'")
  local listing = p:read("a")
  p:close()
  T.truthy(not listing:find("tmp", 1, true), "no temporary files: " .. listing)
end)

---------------------------------------------------------------------------------------
test("errors: plot.line arguments", function()
  local L = "actrun.plot.line: "
  expect_error(function() plot.line() end, L .. "argument #1 (options) expected a table, got nil")
  expect_error(function() plot.line{title = "x"} end, L .. "option 'series' is required")
  expect_error(function() plot.line{series = {}} end, L .. "option 'series' is empty")
  expect_error(function() plot.line{series = 3} end, L .. "option 'series' expected a list")
  expect_error(function()
    plot.line{series = {{y = {1, 2}}, {x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, y = {1, 2, 3, 4, 5, 6, 7, 8, 9}}}}
  end, L .. "series 2 has 10 x values but 9 y values")
  expect_error(function() plot.line{series = {{y = {}}}} end, L .. "series 1 has no values")
  expect_error(function() plot.line{series = {{x = {1}}}} end, L .. "series 1 has no y values")
  expect_error(function() plot.line{series = {{y = {1, "a", 3}}}} end,
    L .. "series 1 y value 2 is a string, expected a number")
  expect_error(function() plot.line{series = {{y = {1, 2}, x = {1, true}}}} end,
    L .. "series 1 x value 2 is a boolean, expected a number")
  expect_error(function() plot.line{series = {{y = actrun.zeros(2, 3)}}} end,
    L .. "series 1 y is a tensor of shape {2,3}, expected a 1-D tensor")
  expect_error(function() plot.line{series = {{y = "abc"}}} end,
    L .. "series 1 y expected an array of numbers or a 1-D tensor, got a string")
  expect_error(function() plot.line{series = {{y = {1}, colour = "red"}}} end,
    L .. "series 1: unknown field 'colour' (allowed: band, label, x, y)")
  expect_error(function() plot.line{series = {{y = {1}, label = {}}}} end,
    L .. "series 1 label expected a string, got a table")
  expect_error(function() plot.line{series = {{y = {1}}}, titel = "x"} end,
    L .. "unknown option 'titel' (allowed: ascii, color, file, height, legend, markers, pad,"
      .. " print, series, title, type, width, xlabel, xlog, xrange, ylabel, ylog, yrange)")
  expect_error(function() plot.line{series = {{y = {nan, 1 / 0}}}} end, L .. "no finite values to plot")
  expect_error(function() plot.line{series = {{y = {-1, 0}}}, ylog = true} end,
    L .. "no finite values to plot (log axes show only positive values)")
  expect_error(function() plot.line{series = {{y = {1}}}, yrange = {2, 1}} end,
    L .. "option 'yrange' expected finite lo < hi, got {2,1}")
  expect_error(function() plot.line{series = {{y = {1}}}, xrange = {0, 1}, xlog = true} end,
    L .. "option 'xrange' must be positive on a log axis")
  expect_error(function() plot.line{series = {{y = {1}}}, xrange = 5} end,
    L .. "option 'xrange' expected {lo,hi} (two numbers), got 5")
  expect_error(function() plot.line{series = {{y = {1}}}, type = "hist"} end,
    L .. "option 'type' must be \"line\" here, got a string")
  expect_error(function() plot.line{series = {{y = {1}}}, legend = "no"} end,
    L .. "option 'legend' expected a boolean, got a string")
  expect_error(function() plot.line{series = {{y = {1}}}, ylog = "yes"} end,
    L .. "option 'ylog' expected a boolean, got a string")
  expect_error(function() plot.line{series = {{y = {1}}}, width = -3} end,
    L .. "option 'width' expected a positive number, got -3")
  expect_error(function() plot.line{series = {{y = {1}}}, print = 1} end,
    L .. "option 'print' expected a boolean, got 1")
  -- the message points at the caller's line
  local ok, msg = pcall(plot.line, {series = {}})
  eq(msg:sub(1, 17), "actrun.plot.line:", "called from C: no position")
  ok, msg = pcall(function() plot.line{series = {}} end)
  eq(ok, false)
  T.truthy(msg:find("test_plot.lua:%d+: actrun.plot.line:"), "error at the caller's line: " .. msg)
end)

test("errors: files", function()
  local L = "actrun.plot.line: "
  expect_error(function() plot.line{series = {{y = {1}}}, file = "out.png"} end,
    L .. "PNG is not supported ('out.png'): write an .svg file instead")
  expect_error(function() plot.line{series = {{y = {1}}}, file = "out.pdf"} end,
    L .. "option 'file' must end in .svg, got 'out.pdf'")
  expect_error(function() plot.line{series = {{y = {1}}}, file = 3} end,
    L .. "option 'file' expected a file name ending in .svg, got 3")
  local bad = tmpdir .. "/no/such/dir/x.svg"
  expect_error(function() plot.line{series = {{y = {1}}}, file = bad} end,
    L .. bad .. ": cannot create a temporary file next to it")
  expect_error(function() plot.hist({1, 2}, {file = bad}) end,
    "actrun.plot.hist: " .. bad .. ": cannot create a temporary file next to it")
end)

test("errors: hist, bar, grid, activations, ticks", function()
  local H = "actrun.plot.hist: "
  expect_error(function() plot.hist("abc") end,
    H .. "argument #1 (data) expected a tensor or an array of numbers, got a string")
  expect_error(function() plot.hist({}) end, H .. "argument #1 (data) is empty")
  expect_error(function() plot.hist(actrun.zeros(0)) end, H .. "argument #1 (data) is empty")
  expect_error(function() plot.hist({1, "x"}) end, H .. "data value 2 is a string, expected a number")
  expect_error(function() plot.hist({1, 2}, {bins = 0}) end, H .. "option 'bins' must be 1..1000000, got 0")
  expect_error(function() plot.hist({1, 2}, {bins = 2.5}) end, H .. "option 'bins' expected an integer, got 2.5")
  expect_error(function() plot.hist({1, 2}, {range = {1}}) end, H .. "option 'range' expected {lo,hi}")
  expect_error(function() plot.hist({-1e308, 1e308}) end, H .. "the values span a range too wide or too narrow to bin")
  expect_error(function() plot.hist({0, 1e-320}) end, H .. "the values span a range too wide or too narrow to bin")
  expect_error(function() plot.line{series = {{y = {-1e308, 1e308}}}} end,
    "actrun.plot.line: the values span a range too wide or too narrow to draw")
  expect_error(function() plot.hist({1, 2}, {bin = 3}) end, H .. "unknown option 'bin' (allowed: ascii, bins,")
  expect_error(function() plot.hist({1, 2}, 5) end, H .. "argument #2 (options) expected a table, got 5")
  local B = "actrun.plot.bar: "
  expect_error(function() plot.bar{labels = {"a"}} end, B .. "option 'values' is required")
  expect_error(function() plot.bar{labels = {"a"}, values = {1, 2}} end, B .. "1 labels but 2 values")
  expect_error(function() plot.bar{values = {}} end, B .. "option 'values' is empty")
  expect_error(function() plot.bar{values = {1, "2"}} end, B .. "values value 2 is a string, expected a number")
  expect_error(function() plot.bar{values = {-1, 0}, log = true} end, B .. "no finite positive values to draw")
  expect_error(function() plot.bar{values = {1}, labels = {{}}} end, B .. "label 1 expected a string, got a table")
  local G = "actrun.plot.grid: "
  expect_error(function() plot.grid{} end, G .. "option 'plots' expected a non-empty list of panels, got nil")
  expect_error(function() plot.grid{plots = {{type = "pie"}}} end, G .. "panel 1: unknown type 'pie' (line, hist, bar or interval)")
  expect_error(function() plot.grid{plots = {{series = {{y = {1}}}}, 7}} end, G .. "panel 2 expected an options table, got 7")
  expect_error(function() plot.grid{plots = {{series = {{y = {1, "a"}}}}}} end,
    G .. "panel 1: series 1 y value 2 is a string, expected a number")
  expect_error(function() plot.grid{plots = {{type = "hist"}}} end, G .. "panel 1: a hist panel needs data=")
  expect_error(function() plot.grid{plots = {{series = {{y = {1}}}}}, columns = 0} end,
    G .. "option 'columns' must be >= 1, got 0")
  local A = "actrun.plot.activations: "
  expect_error(function() plot.activations{} end, A .. "option 'names' expected a list of activation names, got nil")
  expect_error(function() plot.activations{names = {"nope"}} end, A .. "unknown activation 'nope' (see act.list())")
  expect_error(function() plot.activations{names = {"relu"}, from = 2, to = 1} end,
    A .. "'from' must be less than 'to' (both finite), got from=2, to=1")
  expect_error(function() plot.activations{names = {"relu"}, derivative = "yes"} end,
    A .. "option 'derivative' expected true, false, \"both\" or \"only\", got a string")
  expect_error(function() plot.activations{names = {"relu"}, params = {relu = {alpha = 1}}} end,
    A .. "relu: actrun.act.apply: unknown parameter 'alpha' for relu")
  expect_error(function() plot.activations{names = {"relu"}, n = 1} end, A .. "option 'n' must be 2..1000000, got 1")
  expect_error(function() plot.activations{names = {"relu"}, file = "a.png"} end, A .. "PNG is not supported")
  expect_error(function() plot.activations{names = {"relu"}, form = -3} end, A .. "unknown option 'form'")
  expect_error(function() plot.ticks(1, 0) end, "actrun.plot.ticks: expected two numbers lo < hi, got 1 and 0")
  expect_error(function() plot.ticks(0, 1, {log = true}) end, "actrun.plot.ticks: a log axis needs lo > 0, got 0")
end)

test("help documents every public function", function()
  local help = require "actrun.help"
  for _, name in ipairs({"line", "hist", "bar", "grid", "activations", "ticks"}) do
    T.truthy(help.text("actrun.plot." .. name), "help for actrun.plot." .. name)
  end
end)

os.execute("rm -rf '" .. tmpdir .. "'")
T.done()
