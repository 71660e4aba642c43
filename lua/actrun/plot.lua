-- actrun.plot: line plots, histograms, bar charts and activation curves, written as
-- standalone SVG files or drawn in the terminal with Unicode braille (2x4 dots a cell).
--
--   plot.line{series={{x=, y=, label=}...}, title=, xlabel=, ylabel=, file=}
--   plot.hist(t, {bins=100, range=, file=})       -> counts, edges, path_or_text
--   plot.bar{labels=, values=, log=, file=}
--   plot.activations{names=, from=-5, to=5, derivative=true, params=, file=}
--   plot.grid{plots={panel...}, columns=2, file=}  (a panel is plot.line's option table,
--                                                   or {type="hist"|"bar", ...})
--
-- Every function returns the path written (with file=) or the rendered text (without,
-- after printing it unless print=false). Loops over the elements of big tensors run in C
-- (actrun.plot_c: histogram binning, min/max decimation); the rendering loops here only
-- see a few thousand points per series.

local actrun = require "actrun"
local C = require "actrun.plot_c"
local util = require "actrun.util"

local plot = {}

local floor, ceil, abs, log10 = math.floor, math.ceil, math.abs, function(v) return math.log(v, 10) end
local huge = math.huge
local fmt = string.format

-- Series longer than this are reduced (in C) to min/max per bucket before drawing.
local DECIMATE_ABOVE = 6000
local BUCKETS = 1500

---------------------------------------------------------------------------------------
-- Errors: raised inside as a marked table, re-raised by the public wrapper at the
-- caller's line, so messages read "script.lua:12: actrun.plot.line: ...".

local ERR = {}

local function fail(fname, msg, ...)
  error({[ERR] = fname .. ": " .. (select("#", ...) > 0 and msg:format(...) or msg)}, 0)
end

local function public(fn)
  return function(...)
    local r = table.pack(xpcall(fn, function(e)
      if type(e) == "table" and e[ERR] then return e end
      -- an argument error from the C half already names the function
      local msg = type(e) == "string" and e:match("^[^\n]-:%d+: (actrun%.plot%.[%w_]+: .*)$")
      if msg then return {[ERR] = msg} end
      return debug.traceback(tostring(e), 2)
    end, ...))
    if r[1] then return table.unpack(r, 2, r.n) end
    local e = r[2]
    if type(e) == "table" and e[ERR] then error(e[ERR], 2) end
    error(e, 0)
  end
end

local function typename(v)
  if actrun.is_tensor(v) then return "a tensor" end
  local t = type(v)
  if t == "nil" then return "nil" end
  if t == "number" then return fmt("%.14g", v) end
  return "a " .. t
end

local function sorted_keys(set)
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return list
end

local function make_set(list)
  local s = {}
  for _, k in ipairs(list) do s[k] = true end
  return s
end

-- opts must be a table whose keys are all allowed (a typo would otherwise be ignored).
local function check_options(fname, opts, allowed, what)
  what = what or "options"
  if type(opts) ~= "table" or actrun.is_tensor(opts) then
    fail(fname, "%s expected a table, got %s", what, typename(opts))
  end
  for k in pairs(opts) do
    if not allowed[k] then
      fail(fname, "unknown option '%s' (allowed: %s)", tostring(k),
        table.concat(sorted_keys(allowed), ", "))
    end
  end
end

local function opt_type(fname, opts, key, kind, default)
  local v = opts[key]
  if v == nil then return default end
  if kind == "number" then
    if type(v) ~= "number" or v ~= v then
      fail(fname, "option '%s' expected a number, got %s", key, typename(v))
    end
  elseif kind == "integer" then
    if math.type(v) ~= "integer" and not (type(v) == "number" and v == floor(v) and abs(v) < 2^53) then
      fail(fname, "option '%s' expected an integer, got %s", key, typename(v))
    end
    v = floor(v)
  elseif kind == "boolean" then
    if type(v) ~= "boolean" then fail(fname, "option '%s' expected a boolean, got %s", key, typename(v)) end
  elseif kind == "string" then
    if type(v) ~= "string" and type(v) ~= "number" then
      fail(fname, "option '%s' expected a string, got %s", key, typename(v))
    end
    v = tostring(v)
  end
  return v
end

local function opt_range(fname, opts, key, log)
  local r = opts[key]
  if r == nil then return nil end
  if type(r) ~= "table" or type(r[1]) ~= "number" or type(r[2]) ~= "number" or #r ~= 2 then
    fail(fname, "option '%s' expected {lo, hi} (two numbers), got %s", key, typename(r))
  end
  local lo, hi = r[1], r[2]
  if not (lo < hi) or lo == -huge or hi == huge then
    fail(fname, "option '%s' expected finite lo < hi, got {%.14g, %.14g}", key, lo, hi)
  end
  if log and lo <= 0 then
    fail(fname, "option '%s' must be positive on a log axis, got {%.14g, %.14g}", key, lo, hi)
  end
  return {lo, hi}
end

---------------------------------------------------------------------------------------
-- Numbers: series data, scales, nice ticks, labels

local function is_finite(v) return v == v and v ~= huge and v ~= -huge end

-- A 1-D tensor or Lua array as a Lua array (a big tensor stays a tensor: returned as
-- the second result, to be decimated in C).
local function numbers(fname, v, what)
  if actrun.is_tensor(v) then
    local shape, long = v:shape(), 0
    for _, s in ipairs(shape) do if s > 1 then long = long + 1 end end
    if long > 1 then
      local parts = {}
      for i, s in ipairs(shape) do parts[i] = tostring(s) end
      fail(fname, "%s is a tensor of shape {%s}, expected a 1-D tensor", what, table.concat(parts, ","))
    end
    local n = v:numel()
    if n > DECIMATE_ABOVE then return nil, v:reshape(n), n end
    if n == 0 then return {}, nil, 0 end
    return v:reshape(n):totable(), nil, n
  elseif type(v) == "table" then
    local n = #v
    for i = 1, n do
      if type(v[i]) ~= "number" then
        fail(fname, "%s value %d is %s, expected a number", what, i, typename(v[i]))
      end
    end
    if n > DECIMATE_ABOVE then return nil, v, n end
    return v, nil, n
  end
  fail(fname, "%s expected an array of numbers or a 1-D tensor, got %s", what, typename(v))
end

-- Nice linear tick step: 1, 2 or 5 times a power of ten, about `target` ticks.
-- (the smallest such step giving at most target + 1 intervals)
local function nice_step(range, target)
  target = math.max(target, 1)
  local mag = 10 ^ floor(log10(range / target))
  for _, m in ipairs({1, 2, 5, 10, 20}) do
    if range / (m * mag) <= target + 1 + 1e-9 then return m * mag end
  end
  return 50 * mag
end

local function linear_ticks_once(lo, hi, target)
  local step = nice_step(hi - lo, target)
  local k0, k1 = ceil(lo / step - 1e-9), floor(hi / step + 1e-9)
  -- a span too small (or too large) for doubles to step through: just the ends
  if not (step > 0 and step < huge) or not (k1 - k0 <= 100) or k0 + 1 == k0 or k1 - 1 == k1 then
    return {lo, hi}, hi - lo
  end
  local ticks = {}
  for k = k0, k1 do
    local v = k * step
    if abs(v) < step * 1e-9 then v = 0 end
    ticks[#ticks + 1] = v
  end
  return ticks, step
end

local function linear_ticks(lo, hi, target)
  local list, step
  for t = target, target + 8 do -- at least two ticks, even on a short axis
    list, step = linear_ticks_once(lo, hi, t)
    if #list >= 2 then break end
  end
  return list, step
end

-- Ticks of an axis: plot.ticks(lo, hi [, {log=bool, count=n}]) -> values, step
-- (on a log axis the step is in decades when ticks are powers of ten, else nil).
local function ticks(lo, hi, log, target)
  target = target or 6
  if not log then return linear_ticks(lo, hi, target) end
  local a, b = log10(lo), log10(hi)
  local d0, d1 = ceil(a - 1e-9), floor(b + 1e-9)
  local decades = d1 - d0 + 1
  if decades < 3 then -- 1, 2, 5 times powers of ten when they give enough ticks
    local list = {}
    for d = floor(a) - 1, ceil(b) do
      for _, m in ipairs({1, 2, 5}) do
        local v = m * 10.0 ^ d
        if v >= lo * (1 - 1e-9) and v <= hi * (1 + 1e-9) then list[#list + 1] = v end
      end
    end
    if #list >= 2 and #list <= target + 2 then return list, nil end
  end
  if decades >= 2 then
    local every = 1
    for _, e in ipairs({1, 2, 3, 4, 5, 10, 20, 25, 50, 100}) do
      every = e
      if ceil(decades / e) <= target + 1 then break end
    end
    local list = {}
    local start = ceil(d0 / every) * every
    for d = start, d1, every do list[#list + 1] = 10.0 ^ d end
    if #list >= 2 then return list, every end
  end
  -- less than two decades: 1, 2, 5 times powers of ten, else plain linear ticks
  local list = {}
  for d = floor(a) - 1, ceil(b) do
    for _, m in ipairs({1, 2, 5}) do
      local v = m * 10.0 ^ d
      if v >= lo * (1 - 1e-9) and v <= hi * (1 + 1e-9) then list[#list + 1] = v end
    end
  end
  if #list >= 3 and #list <= target + 1 then return list, nil end
  return linear_ticks(lo, hi, math.min(target, 4))
end

local function trim_exp(s)
  -- 1.5e-05 -> 1.5e-5, 2e+06 -> 2e6
  return (s:gsub("e([%-+])0*(%d)", function(sign, d) return "e" .. (sign == "-" and "-" or "") .. d end))
end

-- A tick label: as many decimals as the step needs; exponents for very big or small.
local function tick_label(v, step, log)
  if v == 0 and (log or not step or step >= 1 or step < 1e-5) then return "0" end
  if log and step then
    local e = floor(log10(v) + 0.5)
    if e >= -3 and e <= 4 then return (fmt("%.10g", 10.0 ^ e)) end
    return "1e" .. e
  end
  step = step or abs(v)
  local av = abs(v)
  if v ~= 0 and (av >= 1e6 or av < 1e-4 or step < 1e-5) then
    local digits = math.max(1, floor(log10(av)) - floor(log10(step) + 1e-9) + 1)
    return trim_exp(fmt("%." .. math.min(digits, 15) .. "g", v))
  end
  local decimals = math.max(0, -floor(log10(step) + 1e-9))
  if log then decimals = math.max(decimals, math.max(0, -floor(log10(av) + 1e-9))) end
  local s = fmt("%." .. decimals .. "f", v)
  if s:match("^%-0%.?0*$") then s = s:sub(2) end
  return s
end

-- Ticks of a scale; counts (integer=true) never get fractional ticks.
local function axis_ticks(sc, target)
  local list, step = ticks(sc.lo, sc.hi, sc.log, target)
  if sc.integer and not sc.log and step and step < 1 then
    list, step = {}, 1
    for v = ceil(sc.lo), floor(sc.hi) do list[#list + 1] = v end
  end
  return list, step
end

-- A value printed beside a bar: 4 significant digits, nan/inf spelled plainly.
local function value_label(v)
  if v ~= v then return "nan" end
  if v == huge then return "inf" end
  if v == -huge then return "-inf" end
  return trim_exp(fmt("%.4g", v))
end

local function new_scale(lo, hi, log)
  local a, b = lo, hi
  if log then a, b = log10(lo), log10(hi) end
  return {lo = lo, hi = hi, log = log, a = a, b = b}
end

-- Data value -> [0, 1] on the axis (nil for a value the axis cannot show).
local function unit(s, v)
  if not is_finite(v) then return nil end
  if s.log then
    if v <= 0 then return nil end
    v = log10(v)
  end
  local u = (v - s.a) / (s.b - s.a)
  if u < -10 then u = -10 elseif u > 11 then u = 11 end
  return u
end

-- Axis limits from data (lo, hi may be nil when nothing was finite).
local function limits(lo, hi, log, fixed)
  if fixed then return fixed[1], fixed[2] end
  if lo == nil then
    if log then return 1, 10 end
    return 0, 1
  end
  if lo == hi then
    if log then return lo / 10, hi * 10 end
    local d = lo == 0 and 1 or abs(lo) * 0.1
    return lo - d, hi + d
  end
  return lo, hi
end

---------------------------------------------------------------------------------------
-- Output: files and the terminal

-- Text for XML: markup characters escaped, control characters XML forbids dropped, and
-- bytes that are not valid UTF-8 replaced, so any Lua string makes a well-formed file.
local function escape(s)
  s = tostring(s):gsub("[%z\1-\8\11\12\14-\31\127]", "")
  if not utf8.len(s) then s = s:gsub("[\128-\255]", "?") end
  return (s:gsub('[&<>"]', {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;"}))
end

local function output_kind(fname, file)
  if file == nil then return nil end
  if type(file) ~= "string" or file == "" then
    fail(fname, "option 'file' expected a file name ending in .svg, got %s", typename(file))
  end
  local ext = file:match("%.([^./\\]+)$")
  ext = ext and ext:lower()
  if ext == "svg" then return "svg" end
  if ext == "png" then
    fail(fname, "PNG is not supported ('%s'): write an .svg file instead (browsers and "
      .. "image tools open it, e.g. rsvg-convert turns it into PNG)", file)
  end
  fail(fname, "option 'file' must end in .svg, got '%s'", file)
end

-- The file through actrun's one writer (util.write_atomic), with this module's errors.
local function write_file(fname, path, text)
  local ok, err = actrun._write_file(path, text)
  if not ok then fail(fname, "%s", err) end
  return path
end

-- Terminal size and colour from the options and the environment: the width is the
-- option's, else $COLUMNS, else the terminal's own (standard output's, then standard
-- error's), else 80 columns; the height is the option's, else from $LINES, else 20 rows
-- (a figure does not fill a tall terminal unasked).
local function term_setup(o, default_w, default_h)
  local cols = C.term_size(1) or C.term_size(2)
  local w = o.width or tonumber(os.getenv("COLUMNS") or "") or cols or default_w or 80
  local lines = tonumber(os.getenv("LINES") or "")
  local h = o.height or (lines and math.max(10, lines - 1)) or default_h or 20
  local color = o.color
  if color == nil then
    local term = os.getenv("TERM")
    local no_color = os.getenv("NO_COLOR")
    color = C.isatty(1) and (no_color == nil or no_color == "") and term ~= "dumb"
  end
  return {width = floor(w), height = floor(h), color = color and not o.ascii, ascii = o.ascii}
end

-- Writes a terminal figure (unless print=false) and returns its text; the text is
-- noted as displayed, so the REPL does not echo it a second time (util.displayed).
local function emit_text(o, text)
  if o.print ~= false then
    io.write(text)
    io.flush()
    util.displayed(text)
  end
  return text
end

---------------------------------------------------------------------------------------
-- Styles: the one palette of every figure actrun draws. Colours are Okabe-Ito's
-- (distinguishable with the common colour-vision deficiencies; grey stands in for their
-- yellow, which vanishes on white). Dashes and markers cycle beside the colours with
-- lengths 5 and 7, coprime to the 8 colours, so no two of the first 280 series share
-- colour, dash and marker, and two series of one colour differ in both dash and marker
-- (series stay apart in greyscale and print too).

local COLORS = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"}
local DASHES = {false, "8 4", "2 3", "10 3 2 3", "5 2 1 2 1 2"} -- false: solid
local MARKERS = {"circle", "square", "triangle", "diamond", "triangle_down", "hexagon", "star"}
local ANSI = {34, 31, 32, 35, 33, 36, 37, 90}
-- dot patterns in the terminal (when there is no colour): on/off run lengths
local TDASH = {false, {3, 2}, {1, 1}, {4, 1, 1, 1}, {2, 3}, {5, 1, 1, 1, 1, 1}, {1, 3}, {4, 2}}
local ASCII_MARK = {"*", "+", "o", "x", "#", "@", "%", "&"}

local function cycle(list, i) return list[(i - 1) % #list + 1] end

local function style(i)
  local k = (i - 1) % #COLORS + 1
  return {color = COLORS[k], dash = cycle(DASHES, i) or nil, marker = cycle(MARKERS, i),
    ansi = ANSI[k], tdash = cycle(TDASH, i) or nil, mark = cycle(ASCII_MARK, i), index = i}
end

-- The palette for scripts that style their own drawings like actrun's figures.
plot.palette = {colors = table.move(COLORS, 1, #COLORS, 1, {}),
  dashes = {"", table.unpack(DASHES, 2)}, markers = table.move(MARKERS, 1, #MARKERS, 1, {})}

---------------------------------------------------------------------------------------
-- Panels: a prepared description of one plot, rendered by the SVG or terminal backend.

local LINE_OPTS = {"series", "title", "xlabel", "ylabel", "file", "xlog", "ylog", "xrange",
  "yrange", "width", "height", "markers", "ascii", "print", "color", "legend", "type", "pad"}
local LINE_SET = make_set(LINE_OPTS)

-- A series' band (band={lo=, hi=}, one pair a point: a confidence interval or a range)
-- as two arrays, checked against the series' length.
local function series_band(fname, i, band, ny)
  if band == nil then return nil end
  if type(band) ~= "table" or actrun.is_tensor(band) then
    fail(fname, "series %d band expected a table {lo=, hi=}, got %s", i, typename(band))
  end
  local lo = numbers(fname, band.lo, fmt("series %d band lo", i))
  local hi = numbers(fname, band.hi, fmt("series %d band hi", i))
  if not lo or not hi or #lo ~= ny or #hi ~= ny then
    fail(fname, "series %d band needs lo and hi with %d values each (one per point)", i, ny)
  end
  return {lo = lo, hi = hi}
end

-- Limits widened by 4% of the span on each side (pad=true), so markers at the ends of
-- a curve and the edges of a band stay off the frame.
local function padded(lo, hi, log)
  if log then
    local a, b = log10(lo), log10(hi)
    local d = (b - a) * 0.04
    return 10 ^ (a - d), 10 ^ (b + d)
  end
  local d = (hi - lo) * 0.04
  return lo - d, hi + d
end

-- The panel of plot.line's options (validated).
local function prepare_line(fname, o)
  check_options(fname, o, LINE_SET)
  local series = o.series
  if series == nil then
    fail(fname, "option 'series' is required (a list of {x=, y=, label=})")
  end
  if type(series) ~= "table" or actrun.is_tensor(series) then
    fail(fname, "option 'series' expected a list of {x=, y=, label=}, got %s", typename(series))
  end
  if #series == 0 then fail(fname, "option 'series' is empty (give at least one {y=...})") end
  local xlog = opt_type(fname, o, "xlog", "boolean", false)
  local ylog = opt_type(fname, o, "ylog", "boolean", false)
  local xfixed, yfixed = opt_range(fname, o, "xrange", xlog), opt_range(fname, o, "yrange", ylog)
  local P = {kind = "line", title = opt_type(fname, o, "title", "string"),
    xlabel = opt_type(fname, o, "xlabel", "string"), ylabel = opt_type(fname, o, "ylabel", "string"),
    markers = opt_type(fname, o, "markers", "boolean", false),
    legend = opt_type(fname, o, "legend", "boolean", true), series = {}, notes = {}}
  local pad = opt_type(fname, o, "pad", "boolean", false)
  if o.type ~= nil and o.type ~= "line" then
    fail(fname, "option 'type' must be \"line\" here, got %s (hist and bar panels go in plot.grid)", typename(o.type))
  end
  local allowed_series = make_set({"x", "y", "label", "band"})
  local xlo, xhi, ylo, yhi = huge, -huge, huge, -huge
  local xint = true -- every x an integer (epochs, layers): no fractional x ticks
  local skipped_x, skipped_y = 0, 0
  for i, s in ipairs(series) do
    if type(s) ~= "table" or actrun.is_tensor(s) then
      fail(fname, "series %d expected a table {x=, y=, label=}, got %s", i, typename(s))
    end
    for k in pairs(s) do
      if not allowed_series[k] then
        fail(fname, "series %d: unknown field '%s' (allowed: band, label, x, y)", i, tostring(k))
      end
    end
    if s.y == nil then fail(fname, "series %d has no y values", i) end
    local ys, ybig, ny = numbers(fname, s.y, fmt("series %d y", i))
    local xs, xbig, nx
    if s.x ~= nil then
      xs, xbig, nx = numbers(fname, s.x, fmt("series %d x", i))
      if nx ~= ny then
        fail(fname, "series %d has %d x values but %d y values", i, nx, ny)
      end
    end
    if ny == 0 then fail(fname, "series %d has no values (empty y)", i) end
    local band = series_band(fname, i, s.band, ny)
    if band and (ybig or xbig) then fail(fname, "series %d: a band needs at most %d points", i, DECIMATE_ABOVE) end
    if ybig or xbig then -- long: min/max per bucket, in C
      local function as_arg(v, big)
        if big then return big end
        return v
      end
      xs, ys = C.decimate(s.x ~= nil and as_arg(xs, xbig) or false, as_arg(ys, ybig), BUCKETS)
    elseif not xs then
      xs = {}
      for k = 1, ny do xs[k] = k end
    end
    local label = s.label
    if label ~= nil and type(label) ~= "string" and type(label) ~= "number" then
      fail(fname, "series %d label expected a string, got %s", i, typename(label))
    end
    label = label ~= nil and tostring(label) or (#series > 1 and ("series " .. i) or nil)
    for k = 1, #ys do
      local x, y = xs[k], ys[k]
      local okx = is_finite(x) and (not xlog or x > 0)
      local oky = is_finite(y) and (not ylog or y > 0)
      if xlog and is_finite(x) and x <= 0 then skipped_x = skipped_x + 1 end
      if ylog and is_finite(y) and y <= 0 then skipped_y = skipped_y + 1 end
      if okx and oky then
        if x < xlo then xlo = x end
        if x > xhi then xhi = x end
        if y < ylo then ylo = y end
        if y > yhi then yhi = y end
        if x ~= floor(x) then xint = false end
        for _, b in ipairs(band and {band.lo[k], band.hi[k]} or {}) do
          if is_finite(b) and (not ylog or b > 0) then
            if b < ylo then ylo = b end
            if b > yhi then yhi = b end
          end
        end
      end
    end
    P.series[i] = {label = label, x = xs, y = ys, band = band, style = style(i), n = ny}
  end
  if xlo > xhi then
    if not (xfixed and yfixed) then
      fail(fname, "no finite values to plot%s", (xlog or ylog) and " (log axes show only positive values)" or "")
    end
    xlo, xhi, ylo, yhi = nil, nil, nil, nil
  end
  if skipped_x > 0 then P.notes[#P.notes + 1] = fmt("xlog: %d non-positive x value%s skipped", skipped_x, skipped_x == 1 and "" or "s") end
  if skipped_y > 0 then P.notes[#P.notes + 1] = fmt("ylog: %d non-positive y value%s skipped", skipped_y, skipped_y == 1 and "" or "s") end
  local a, b = limits(xlo, xhi, xlog, xfixed)
  if pad and not xfixed and xlo then a, b = padded(a, b, xlog) end
  P.xs = new_scale(a, b, xlog)
  P.xs.integer = xint and xlo ~= nil
  a, b = limits(ylo, yhi, ylog, yfixed)
  if pad and not yfixed and ylo then a, b = padded(a, b, ylog) end
  P.ys = new_scale(a, b, ylog)
  for _, sc in ipairs({P.xs, P.ys}) do
    if not (is_finite(sc.b - sc.a) and sc.b - sc.a > 0) then
      fail(fname, "the values span a range too wide or too narrow to draw (%.17g to %.17g)", sc.lo, sc.hi)
    end
  end
  return P
end

local HIST_OPTS = {"bins", "range", "file", "title", "xlabel", "ylabel", "width", "height",
  "ascii", "print", "color", "ylog", "data", "type"}
local HIST_SET = make_set(HIST_OPTS)

local function prepare_hist(fname, data, o, argn)
  check_options(fname, o, HIST_SET)
  if not actrun.is_tensor(data) and type(data) ~= "table" then
    fail(fname, "argument #1 (data) expected a tensor or an array of numbers, got %s", typename(data))
  end
  local bins = opt_type(fname, o, "bins", "integer", 100)
  if bins < 1 or bins > 1e6 then fail(fname, "option 'bins' must be 1..1000000, got %d", bins) end
  local range = opt_range(fname, o, "range", false)
  local n = actrun.is_tensor(data) and data:numel() or #data
  if n == 0 then fail(fname, "argument #1 (data) is empty") end
  if not actrun.is_tensor(data) then
    for i = 1, n do
      if type(data[i]) ~= "number" then
        fail(fname, "data value %d is %s, expected a number", i, typename(data[i]))
      end
    end
  end
  local ok, counts, edges, outside, nonfinite, lo, hi
  if range then
    counts, edges, outside, nonfinite, lo, hi = C.hist(data, bins, range[1], range[2])
  else
    counts, edges, outside, nonfinite, lo, hi = C.hist(data, bins)
  end
  local ylog = opt_type(fname, o, "ylog", "boolean", false)
  local P = {kind = "hist", title = opt_type(fname, o, "title", "string"),
    xlabel = opt_type(fname, o, "xlabel", "string"),
    ylabel = opt_type(fname, o, "ylabel", "string", "count"), notes = {}, counts = counts,
    edges = edges, series = {}, legend = false}
  local maxc = 0
  for _, c in ipairs(counts) do if c > maxc then maxc = c end end
  if nonfinite > 0 then P.notes[#P.notes + 1] = fmt("%d non-finite value%s not counted", nonfinite, nonfinite == 1 and "" or "s") end
  if outside > 0 then P.notes[#P.notes + 1] = fmt("%d value%s outside the range not counted", outside, outside == 1 and "" or "s") end
  P.xs = new_scale(lo, hi, false)
  if ylog then
    P.ys = new_scale(0.5, math.max(maxc, 1) * 1.05, true)
  else
    P.ys = new_scale(0, maxc > 0 and maxc or 1, false)
  end
  P.ys.integer = true
  P.total = n
  return P
end

local BAR_OPTS = {"labels", "values", "title", "xlabel", "file", "log", "width", "height",
  "ascii", "print", "color", "type"}
local BAR_SET = make_set(BAR_OPTS)

local function prepare_bar(fname, o)
  check_options(fname, o, BAR_SET)
  if o.values == nil then fail(fname, "option 'values' is required (a list of numbers)") end
  local values = numbers(fname, o.values, "values")
  if values == nil then fail(fname, "option 'values' has too many entries for a bar chart") end
  if #values == 0 then fail(fname, "option 'values' is empty") end
  local labels = o.labels
  if labels == nil then
    labels = {}
    for i = 1, #values do labels[i] = tostring(i) end
  elseif type(labels) ~= "table" then
    fail(fname, "option 'labels' expected a list of strings, got %s", typename(labels))
  end
  if #labels ~= #values then
    fail(fname, "%d labels but %d values (they must match)", #labels, #values)
  end
  local lab = {}
  for i = 1, #labels do
    local l = labels[i]
    if type(l) ~= "string" and type(l) ~= "number" then
      fail(fname, "label %d expected a string, got %s", i, typename(l))
    end
    lab[i] = tostring(l)
  end
  local log = opt_type(fname, o, "log", "boolean", false)
  local P = {kind = "bar", title = opt_type(fname, o, "title", "string"),
    xlabel = opt_type(fname, o, "xlabel", "string"), labels = lab, values = values, notes = {},
    series = {}, legend = false, log = log}
  local lo, hi, skipped = huge, -huge, 0
  for _, v in ipairs(values) do
    if is_finite(v) and (not log or v > 0) then
      if v < lo then lo = v end
      if v > hi then hi = v end
    elseif log and is_finite(v) then
      skipped = skipped + 1
    end
  end
  if lo > hi then fail(fname, "no finite%s values to draw", log and " positive" or "") end
  if skipped > 0 then P.notes[1] = fmt("log: %d non-positive value%s not drawn", skipped, skipped == 1 and "" or "s") end
  if log then
    -- one decade below the smallest value, so even the shortest bar shows
    local a, b = floor(log10(lo) - 1e-9), ceil(log10(hi) - 1e-9)
    if a == b then b = a + 1 end
    P.xs = new_scale(10.0 ^ a, 10.0 ^ b, true)
  else
    lo, hi = math.min(lo, 0), math.max(hi, 0)
    if lo == hi then hi = 1 end
    local t, step = linear_ticks(lo, hi, 5)
    -- bars read best against a round end of the axis
    P.xs = new_scale(lo < 0 and floor(lo / step + 1e-9) * step or lo,
      hi > 0 and ceil(hi / step - 1e-9) * step or hi, false)
  end
  return P
end

local INTERVAL_OPTS = {"labels", "values", "lo", "hi", "tags", "note", "title", "xlabel",
  "file", "width", "height", "ascii", "print", "color", "type"}
local INTERVAL_SET = make_set(INTERVAL_OPTS)

-- A list of n strings (or numbers) from option `key`, or nil when it is absent.
local function opt_strings(fname, o, key, n)
  local list = o[key]
  if list == nil then return nil end
  if type(list) ~= "table" or #list ~= n then
    fail(fname, "option '%s' expected a list of %d strings (one per value), got %s", key, n, typename(list))
  end
  local out = {}
  for i = 1, n do
    local v = list[i]
    if type(v) ~= "string" and type(v) ~= "number" then
      fail(fname, "%s %d expected a string, got %s", key, i, typename(v))
    end
    out[i] = tostring(v)
  end
  return out
end

-- Estimates with intervals, one row each (a dot and its error bar): the axis spans the
-- intervals with a margin, not zero, so differences of a few points stay visible
-- (bars would have to start at zero to be read by their length).
local function prepare_interval(fname, o)
  check_options(fname, o, INTERVAL_SET)
  if o.values == nil then fail(fname, "option 'values' is required (a list of numbers)") end
  local values = numbers(fname, o.values, "values")
  if values == nil or #values == 0 or #values > 1000 then
    fail(fname, "option 'values' expected 1 to 1000 numbers")
  end
  local n = #values
  local lo = o.lo ~= nil and numbers(fname, o.lo, "lo") or values
  local hi = o.hi ~= nil and numbers(fname, o.hi, "hi") or values
  if #lo ~= n or #hi ~= n then fail(fname, "lo and hi need %d values each (one per value)", n) end
  local P = {kind = "interval", title = opt_type(fname, o, "title", "string"),
    xlabel = opt_type(fname, o, "xlabel", "string"), values = values, lo = lo, hi = hi,
    labels = opt_strings(fname, o, "labels", n), tags = opt_strings(fname, o, "tags", n) or {},
    notes = {}, series = {}, legend = false}
  if not P.labels then
    P.labels = {}
    for i = 1, n do P.labels[i] = tostring(i) end
  end
  local note = o.note -- a line or a list of lines under the axis
  if type(note) == "table" then P.notes = opt_strings(fname, o, "note", #note)
  elseif note ~= nil then P.notes[1] = opt_type(fname, o, "note", "string") end
  local a, b = huge, -huge
  for i = 1, n do
    for _, v in ipairs({values[i], lo[i], hi[i]}) do
      if is_finite(v) then a, b = math.min(a, v), math.max(b, v) end
    end
  end
  if a > b then fail(fname, "no finite values to draw") end
  if a == b then
    local d = a == 0 and 1 or abs(a) * 0.01
    a, b = a - d, b + d
  end
  local d = (b - a) * 0.08
  P.xs = new_scale(a - d, b + d, false)
  return P
end

---------------------------------------------------------------------------------------
-- SVG backend

local function n1(v) -- a coordinate with one decimal, no trailing ".0"
  local s = fmt("%.1f", v)
  s = s:gsub("%.0$", "")
  if s == "-0" then s = "0" end
  return s
end


local function text_w(s, size) return (utf8.len(s) or #s) * (size or 13) * 0.6 end

-- Polyline pieces of a series in screen coordinates: list of runs {x1, y1, x2, y2, ...}
-- broken at NaN/inf and at values a log axis cannot show.
local function screen_runs(P, s, px0, py0, pw, ph)
  local runs, cur = {}, nil
  local xs, ys = s.x, s.y
  for k = 1, #ys do
    local ux, uy = unit(P.xs, xs[k]), unit(P.ys, ys[k])
    if ux and uy then
      if not cur then cur = {}; runs[#runs + 1] = cur end
      cur[#cur + 1] = px0 + ux * pw
      cur[#cur + 1] = py0 + (1 - uy) * ph
    else
      cur = nil
    end
  end
  return runs
end

-- Marker outlines centred on (x, y) with radius r, by the palette's marker names.
local function polygon(x, y, r, corners, start, inner)
  local parts = {}
  for k = 0, corners - 1 do
    local a = start + 2 * math.pi * k / corners
    local rr = (inner and k % 2 == 1) and r * inner or r
    parts[#parts + 1] = (k == 0 and "M" or "L") .. n1(x + rr * math.cos(a)) .. " " .. n1(y + rr * math.sin(a))
  end
  return table.concat(parts) .. "z"
end

local MARKER_SHAPES = {
  circle = function(x, y, r) return fmt("M%s %sa%s %s 0 1 0 %s 0a%s %s 0 1 0 %s 0", n1(x - r), n1(y), n1(r), n1(r), n1(2 * r), n1(r), n1(r), n1(-2 * r)) end,
  square = function(x, y, r) r = r * 0.9 return fmt("M%s %sh%sv%sh%sz", n1(x - r), n1(y - r), n1(2 * r), n1(2 * r), n1(-2 * r)) end,
  triangle = function(x, y, r) return polygon(x, y + r * 0.2, r * 1.25, 3, -math.pi / 2) end,
  diamond = function(x, y, r) return polygon(x, y, r * 1.3, 4, -math.pi / 2) end,
  triangle_down = function(x, y, r) return polygon(x, y - r * 0.2, r * 1.25, 3, math.pi / 2) end,
  hexagon = function(x, y, r) return polygon(x, y, r * 1.1, 6, 0) end,
  star = function(x, y, r) return polygon(x, y, r * 1.45, 10, -math.pi / 2, 0.5) end,
}

local function marker_path(name, x, y, r)
  return MARKER_SHAPES[name](x, y, r or 3.4)
end

-- A reference to the <marker> of style st (its shape in its colour), defined the first
-- time a document uses it; ids name shape and colour, so series share the definitions.
local function marker_ref(out, st)
  local id = "actrun-mk-" .. st.marker .. "-" .. st.color:sub(2)
  out.marker_ids = out.marker_ids or {}
  if not out.marker_ids[id] then
    out.marker_ids[id] = true
    out[#out + 1] = fmt('<defs><marker id="%s" viewBox="-7 -7 14 14" markerWidth="14" markerHeight="14" refX="0" refY="0" markerUnits="userSpaceOnUse"><path d="%s" fill="%s" stroke="#ffffff" stroke-width="0.8"/></marker></defs>',
      id, marker_path(st.marker, 0, 0), st.color)
  end
  return "url(#" .. id .. ")"
end

local function dash_attr(st)
  return st.dash and fmt(' stroke-dasharray="%s"', st.dash) or ""
end

-- A legend's sample of style st centred at (x, y): a short stroke and the marker.
local function svg_swatch(out, st, x, y)
  out[#out + 1] = fmt('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2.2" stroke-linecap="round"%s/>',
    n1(x - 14), n1(y), n1(x + 14), n1(y), st.color, dash_attr(st))
  out[#out + 1] = fmt('<path fill="%s" stroke="#ffffff" stroke-width="0.8" d="%s"/>', st.color, marker_path(st.marker, x, y))
end

-- How much of the data lies in a box (for the legend's place).
local function box_hits(runs_list, bx, by, bw, bh)
  local hits = 0
  local function inside(x, y) return x >= bx and x <= bx + bw and y >= by and y <= by + bh end
  for _, runs in ipairs(runs_list) do
    for _, r in ipairs(runs) do
      for k = 1, #r - 1, 2 do
        local x, y = r[k], r[k + 1]
        if inside(x, y) then hits = hits + 1 end
        if k + 3 <= #r then -- sample the segment to the next point
          local x2, y2 = r[k + 2], r[k + 3]
          local steps = math.min(20, floor(math.max(abs(x2 - x), abs(y2 - y)) / 6))
          for j = 1, steps do
            local t = j / (steps + 1)
            if inside(x + (x2 - x) * t, y + (y2 - y) * t) then hits = hits + 1 end
          end
        end
      end
    end
  end
  return hits
end

-- Positions of the ticks of scale sc that fall on the axis: list of {v, u}.
local function visible_ticks(sc, list)
  local out = {}
  for _, v in ipairs(list or {}) do
    local u = unit(sc, v)
    if u and u >= -1e-9 and u <= 1 + 1e-9 then out[#out + 1] = {v = v, u = u} end
  end
  return out
end

local function svg_grid_lines(out, P, g)
  out[#out + 1] = '<g stroke="#e6e6e6" stroke-width="1">'
  for _, t in ipairs(visible_ticks(P.xs, g.xt)) do
    local x = g.left + t.u * g.pw
    out[#out + 1] = fmt('<line x1="%s" y1="%s" x2="%s" y2="%s"/>', n1(x), n1(g.top), n1(x), n1(g.top + g.ph))
  end
  for _, t in ipairs(visible_ticks(P.ys, g.yt)) do
    local y = g.top + (1 - t.u) * g.ph
    out[#out + 1] = fmt('<line x1="%s" y1="%s" x2="%s" y2="%s"/>', n1(g.left), n1(y), n1(g.left + g.pw), n1(y))
  end
  out[#out + 1] = '</g>'
end

local function svg_ticks(out, P, g)
  local xt, yt = visible_ticks(P.xs, g.xt), visible_ticks(P.ys, g.yt)
  local bottom = g.top + g.ph
  out[#out + 1] = '<g stroke="#333333" stroke-width="1">'
  for _, t in ipairs(xt) do
    local x = g.left + t.u * g.pw
    out[#out + 1] = fmt('<line x1="%s" y1="%s" x2="%s" y2="%s"/>', n1(x), n1(bottom), n1(x), n1(bottom + 5))
  end
  for _, t in ipairs(yt) do
    local y = g.top + (1 - t.u) * g.ph
    out[#out + 1] = fmt('<line x1="%s" y1="%s" x2="%s" y2="%s"/>', n1(g.left - 5), n1(y), n1(g.left), n1(y))
  end
  out[#out + 1] = '</g>'
  out[#out + 1] = '<g fill="#222222" font-size="12">'
  for _, t in ipairs(xt) do
    out[#out + 1] = fmt('<text x="%s" y="%s" text-anchor="middle">%s</text>', n1(g.left + t.u * g.pw),
      n1(bottom + 19), escape(tick_label(t.v, g.xstep, P.xs.log)))
  end
  for _, t in ipairs(yt) do
    out[#out + 1] = fmt('<text x="%s" y="%s" text-anchor="end">%s</text>', n1(g.left - 8),
      n1(g.top + (1 - t.u) * g.ph + 4), escape(tick_label(t.v, g.ystep, P.ys.log)))
  end
  out[#out + 1] = '</g>'
end

-- The text right of an interval row: the estimate, its half-width and the row's tag.
local function interval_text(P, i)
  local span = P.xs.hi - P.xs.lo
  local digits = math.max(0, math.min(6, 2 - floor(log10(span))))
  local v, lo, hi = P.values[i], P.lo[i], P.hi[i]
  local s = fmt("%." .. digits .. "f", v)
  if is_finite(lo) and is_finite(hi) and hi > lo then
    s = s .. fmt(" ± %." .. digits .. "f", (hi - lo) / 2)
  end
  if P.tags[i] and P.tags[i] ~= "" then s = s .. "  " .. P.tags[i] end
  return s
end

-- The plot area of panel P in the box (x0, y0, w, h), leaving extra_right / extra_bottom
-- for a legend outside: for line and hist panels the y ticks come first (their labels
-- set the left margin); bar and interval panels have a label per row instead.
local function panel_layout(P, x0, y0, w, h, extra_right, extra_bottom)
  local g = {top = y0 + (P.title and 34 or 14)}
  g.ph = y0 + h - 28 - (P.xlabel and 20 or 0) - #P.notes * 15 - extra_bottom - g.top
  local right_text = 0
  if P.kind == "bar" or P.kind == "interval" then
    local maxl = 0
    for _, l in ipairs(P.labels) do maxl = math.max(maxl, text_w(l, 12)) end
    g.left = x0 + 14 + math.min(maxl, w * 0.35)
    if P.kind == "interval" then
      for i = 1, #P.values do right_text = math.max(right_text, text_w(interval_text(P, i), 11) + 10) end
      right_text = math.min(right_text, w * 0.3)
    end
  else
    g.yt, g.ystep = axis_ticks(P.ys, math.max(2, floor(g.ph / 55)))
    local maxl = 0
    for _, v in ipairs(g.yt) do maxl = math.max(maxl, text_w(tick_label(v, g.ystep, P.ys.log), 12)) end
    g.left = x0 + 16 + maxl + (P.ylabel and 22 or 0)
  end
  g.right = x0 + w - 18 - extra_right - right_text
  g.pw = g.right - g.left
  g.runs = {}
  if P.kind == "line" then
    for i, s in ipairs(P.series) do g.runs[i] = screen_runs(P, s, g.left, g.top, g.pw, g.ph) end
  end
  return g
end

-- The legend's entries and size (none when the panel has none).
local function legend_entries(P)
  local labels = {}
  if not P.legend then return labels, 0, 0 end
  for _, s in ipairs(P.series) do
    if s.label then labels[#labels + 1] = s end
  end
  if #labels == 0 then return labels, 0, 0 end
  local maxl = 0
  for _, s in ipairs(labels) do maxl = math.max(maxl, text_w(s.label, 12)) end
  return labels, 52 + maxl, 10 + 18 * #labels
end

-- Where the legend goes: inside the corner with the least data, else outside on the
-- right (narrow legends) or in rows below the axis (wide ones). Returns the layout (redone
-- when the legend takes room) and the legend {entries=, w=, h=, x=, y=, rows=}.
local function plan_legend(P, x0, y0, w, h)
  local g = panel_layout(P, x0, y0, w, h, 0, 0)
  local labels, lw, lh = legend_entries(P)
  local L = {entries = labels, w = lw, h = lh}
  if #labels == 0 then return g, L end
  local best, pad = huge, 8
  if lw < g.pw * 0.6 and lh < g.ph * 0.7 then
    local corners = {
      {g.left + g.pw - lw - pad, g.top + pad}, {g.left + pad, g.top + pad},
      {g.left + g.pw - lw - pad, g.top + g.ph - lh - pad}, {g.left + pad, g.top + g.ph - lh - pad}}
    for _, c in ipairs(corners) do
      local hits = box_hits(g.runs, c[1] - 4, c[2] - 4, lw + 8, lh + 8)
      if hits < best then best, L.x, L.y = hits, c[1], c[2] end
    end
  end
  if best == 0 then return g, L end
  if lw <= w * 0.3 and lh <= h * 0.85 then
    g = panel_layout(P, x0, y0, w, h, lw - 4, 0)
    L.x, L.y = g.right + 10, g.top
    return g, L
  end
  L.x, L.rows = nil, {}
  local avail, row, used = w - 40, {}, 0
  for _, s in ipairs(labels) do
    local iw = 44 + text_w(s.label, 12) + 18
    if #row > 0 and used + iw > avail then
      L.rows[#L.rows + 1] = row
      row, used = {}, 0
    end
    row[#row + 1] = {s = s, x = used}
    used = used + iw
  end
  L.rows[#L.rows + 1] = row
  return panel_layout(P, x0, y0, w, h, 0, 18 * #L.rows + 8), L
end

-- A band (the spread around a curve) as filled outlines: along hi, back along lo, one
-- per stretch of drawable points; a lone point becomes a short bar.
local function svg_band(out, P, s, g, opacity)
  local pieces, cur = {}, nil
  for k = 1, #s.y do
    local ux = unit(P.xs, s.x[k])
    local ua, ub = unit(P.ys, s.band.lo[k]), unit(P.ys, s.band.hi[k])
    if ux and ua and ub then
      if not cur then cur = {}; pieces[#pieces + 1] = cur end
      cur[#cur + 1] = {x = g.left + ux * g.pw, lo = g.top + (1 - ua) * g.ph, hi = g.top + (1 - ub) * g.ph}
    else
      cur = nil
    end
  end
  local d = {}
  for _, p in ipairs(pieces) do
    if #p == 1 then
      d[#d + 1] = fmt("M%s %sH%sV%sH%sz", n1(p[1].x - 3), n1(p[1].hi), n1(p[1].x + 3), n1(p[1].lo), n1(p[1].x - 3))
    else
      for k = 1, #p do d[#d + 1] = (k == 1 and "M" or "L") .. n1(p[k].x) .. " " .. n1(p[k].hi) end
      for k = #p, 1, -1 do d[#d + 1] = "L" .. n1(p[k].x) .. " " .. n1(p[k].lo) end
      d[#d + 1] = "z"
    end
  end
  if #d > 0 then
    out[#out + 1] = fmt('<path class="band" fill="%s" fill-opacity="%.3g" stroke="none" d="%s"/>', s.style.color, opacity, table.concat(d))
  end
end

-- One series as one path carrying its whole style: stroke, dashes and markers (at every
-- point when there are few or markers=true, else at the two ends only).
local function svg_curve(out, P, s, i, runs)
  local st = s.style
  local d, npts = {}, 0
  for _, r in ipairs(runs) do
    d[#d + 1] = "M" .. n1(r[1]) .. " " .. n1(r[2])
    if #r == 2 then d[#d + 1] = "h0.01" end -- a lone point still shows (round cap)
    for k = 3, #r - 1, 2 do d[#d + 1] = "L" .. n1(r[k]) .. " " .. n1(r[k + 1]) end
    npts = npts + #r // 2
  end
  local m = marker_ref(out, st)
  local mid = (P.markers or npts <= 40) and fmt(' marker-mid="%s"', m) or ""
  out[#out + 1] = fmt('<path class="series" fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"%s marker-start="%s"%s marker-end="%s" d="%s"><title>%s</title></path>',
    st.color, dash_attr(st), m, mid, m, table.concat(d, ""), escape(s.label or ("series " .. i)))
end

local function svg_lines(out, P, g)
  -- bands first, under every curve; fainter the more there are, so where a dozen
  -- overlap the curves still read
  local nb = 0
  for _, s in ipairs(P.series) do if s.band then nb = nb + 1 end end
  for _, s in ipairs(P.series) do
    if s.band then svg_band(out, P, s, g, math.max(0.06, math.min(0.16, 0.9 / nb))) end
  end
  for i, s in ipairs(P.series) do svg_curve(out, P, s, i, g.runs[i]) end
end

local function svg_hist(out, P, g)
  local base = P.ys.log and 0 or unit(P.ys, 0)
  local d = {}
  for i, c in ipairs(P.counts) do
    local u = unit(P.ys, c)
    if u and c > 0 then
      local xa = g.left + unit(P.xs, P.edges[i]) * g.pw
      local xb = g.left + unit(P.xs, P.edges[i + 1]) * g.pw
      local ya, yb = g.top + (1 - u) * g.ph, g.top + (1 - base) * g.ph
      d[#d + 1] = fmt("M%s %sH%sV%sH%sz", n1(xa), n1(yb), n1(xb), n1(ya), n1(xa))
    end
  end
  out[#out + 1] = fmt('<path class="bars" fill="%s" fill-opacity="0.85" stroke="#ffffff" stroke-width="%s" d="%s"/>',
    COLORS[1], #P.counts > g.pw / 3 and "0" or "0.6", table.concat(d))
end

-- A bar's value: right of its end when there is room, else inside it (or left of a
-- negative one).
local function svg_bar_value(out, P, g, v, u, cy)
  local vl = value_label(v)
  local xe = g.left + u * g.pw
  if v >= 0 and g.right - xe > text_w(vl, 11) + 6 then
    out[#out + 1] = fmt('<text x="%s" y="%s" font-size="11" fill="#444444">%s</text>', n1(xe + 4), n1(cy + 4), escape(vl))
  elseif v >= 0 then
    out[#out + 1] = fmt('<text x="%s" y="%s" font-size="11" fill="#ffffff" text-anchor="end">%s</text>', n1(xe - 4), n1(cy + 4), escape(vl))
  else
    out[#out + 1] = fmt('<text x="%s" y="%s" font-size="11" fill="#444444" text-anchor="end">%s</text>', n1(math.max(xe - 4, g.left + 30)), n1(cy + 4), escape(vl))
  end
end

local function svg_bars(out, P, g)
  local slot = g.ph / #P.values
  local bh = math.min(28, slot * 0.72)
  local base = P.xs.log and 0 or unit(P.xs, 0)
  out[#out + 1] = '<g font-size="12" fill="#222222">'
  for i, v in ipairs(P.values) do
    local cy = g.top + slot * (i - 0.5)
    local label = P.labels[i]
    out[#out + 1] = fmt('<text x="%s" y="%s" text-anchor="end">%s</text>', n1(g.left - 8), n1(cy + 4), escape(label))
    local u = unit(P.xs, v)
    if u then
      local xa, xb = g.left + base * g.pw, g.left + u * g.pw
      if xb < xa then xa, xb = xb, xa end
      out[#out + 1] = fmt('<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>',
        n1(xa), n1(cy - bh / 2), n1(math.max(xb - xa, 0.5)), n1(bh), v < 0 and COLORS[2] or COLORS[1], escape(label .. ": " .. value_label(v)))
      svg_bar_value(out, P, g, v, u, cy)
    end
  end
  out[#out + 1] = '</g>'
  if base > 0 and base < 1 then
    out[#out + 1] = fmt('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333333"/>', n1(g.left + base * g.pw), n1(g.top), n1(g.left + base * g.pw), n1(g.top + g.ph))
  end
end

-- Rows of estimates: a faint guide from the label, the error bar (with caps), the
-- estimate as the row's marker in the palette's style i (the colour and shape its curves
-- have in other panels), and the numbers right of the frame.
local function svg_intervals(out, P, g)
  local slot = g.ph / #P.values
  out[#out + 1] = '<g font-size="12" fill="#222222">'
  for i, v in ipairs(P.values) do
    local cy = g.top + slot * (i - 0.5)
    local st = style(i)
    out[#out + 1] = fmt('<text x="%s" y="%s" text-anchor="end">%s</text>', n1(g.left - 8), n1(cy + 4), escape(P.labels[i]))
    out[#out + 1] = fmt('<line class="guide" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#eeeeee" stroke-width="1"/>', n1(g.left), n1(cy), n1(g.right), n1(cy))
    local ua, ub, u = unit(P.xs, P.lo[i]), unit(P.xs, P.hi[i]), unit(P.xs, v)
    if ua and ub and P.hi[i] > P.lo[i] then
      local xa, xb, c = g.left + ua * g.pw, g.left + ub * g.pw, math.min(5, slot * 0.3)
      out[#out + 1] = fmt('<path class="errorbar" fill="none" stroke="%s" stroke-width="1.6" d="M%s %sH%sM%s %sV%sM%s %sV%s"><title>%s: %s to %s</title></path>',
        st.color, n1(xa), n1(cy), n1(xb), n1(xa), n1(cy - c), n1(cy + c), n1(xb), n1(cy - c), n1(cy + c),
        escape(P.labels[i]), value_label(P.lo[i]), value_label(P.hi[i]))
    end
    if u then
      out[#out + 1] = fmt('<path class="point" fill="%s" stroke="#ffffff" stroke-width="0.8" d="%s"><title>%s: %s</title></path>',
        st.color, marker_path(st.marker, g.left + u * g.pw, cy, 4), escape(P.labels[i]), value_label(v))
    end
    out[#out + 1] = fmt('<text x="%s" y="%s" font-size="11" fill="#444444">%s</text>', n1(g.right + 8), n1(cy + 4), escape(interval_text(P, i)))
  end
  out[#out + 1] = '</g>'
end

-- Frame, ticks, axis labels and notes.
local function svg_frame(out, P, g, x0)
  out[#out + 1] = fmt('<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#333333" stroke-width="1"/>',
    n1(g.left), n1(g.top), n1(g.pw), n1(g.ph))
  svg_ticks(out, P, g)
  if P.xlabel then
    out[#out + 1] = fmt('<text x="%s" y="%s" text-anchor="middle" fill="#111111">%s</text>',
      n1(g.left + g.pw / 2), n1(g.top + g.ph + 40), escape(P.xlabel))
  end
  if P.ylabel and g.yt then
    local cx, cy = x0 + 16, g.top + g.ph / 2
    out[#out + 1] = fmt('<text x="%s" y="%s" text-anchor="middle" fill="#111111" transform="rotate(-90 %s %s)">%s</text>',
      n1(cx), n1(cy), n1(cx), n1(cy), escape(P.ylabel))
  end
  for i, note in ipairs(P.notes) do
    out[#out + 1] = fmt('<text class="note" x="%s" y="%s" font-size="11" fill="#666666">%s</text>',
      n1(g.left), n1(g.top + g.ph + (P.xlabel and 40 or 22) + 15 * i), escape(note))
  end
end

local function svg_legend(out, P, g, L, x0)
  if L.rows then
    out[#out + 1] = '<g class="legend" font-size="12">'
    local base = g.top + g.ph + (P.xlabel and 40 or 22) + 15 * #P.notes + 18
    for r, row in ipairs(L.rows) do
      local yy = base + 18 * (r - 1)
      for _, item in ipairs(row) do
        local xx = x0 + 20 + item.x
        svg_swatch(out, item.s.style, xx + 14, yy)
        out[#out + 1] = fmt('<text x="%s" y="%s" fill="#222222">%s</text>', n1(xx + 34), n1(yy + 4), escape(item.s.label))
      end
    end
    out[#out + 1] = '</g>'
  elseif L.x then
    out[#out + 1] = '<g class="legend" font-size="12">'
    out[#out + 1] = fmt('<rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="#ffffff" fill-opacity="0.9" stroke="#cccccc"/>',
      n1(L.x), n1(L.y), n1(L.w), n1(L.h))
    for k, s in ipairs(L.entries) do
      local yy = L.y + 14 + 18 * (k - 1)
      svg_swatch(out, s.style, L.x + 22, yy)
      out[#out + 1] = fmt('<text x="%s" y="%s" fill="#222222">%s</text>', n1(L.x + 42), n1(yy + 4), escape(s.label))
    end
    out[#out + 1] = '</g>'
  end
end

local clip_counter = 0

-- Draws panel P into the box (x0, y0, w, h) of an SVG being built in `out`.
local function svg_panel(out, P, x0, y0, w, h)
  clip_counter = clip_counter + 1
  local clip = "actrun-clip-" .. clip_counter
  out[#out + 1] = '<g class="panel">'
  local g, L = plan_legend(P, x0, y0, w, h)
  g.xt, g.xstep = axis_ticks(P.xs, math.max(2, floor(g.pw / 75)))
  if P.title then
    out[#out + 1] = fmt('<text x="%s" y="%s" text-anchor="middle" font-size="15" font-weight="bold" fill="#111111">%s</text>',
      n1(x0 + w / 2), n1(y0 + 22), escape(P.title))
  end
  out[#out + 1] = fmt('<defs><clipPath id="%s"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath></defs>',
    clip, n1(g.left - 6), n1(g.top - 6), n1(g.pw + 12), n1(g.ph + 12)) -- a line or marker on the border stays whole
  svg_grid_lines(out, P, g)
  out[#out + 1] = fmt('<g clip-path="url(#%s)">', clip)
  if P.kind == "line" then svg_lines(out, P, g)
  elseif P.kind == "hist" then svg_hist(out, P, g) end
  out[#out + 1] = '</g>'
  if P.kind == "bar" then svg_bars(out, P, g)
  elseif P.kind == "interval" then svg_intervals(out, P, g) end
  svg_frame(out, P, g, x0)
  svg_legend(out, P, g, L, x0)
  out[#out + 1] = '</g>'
end

local function svg_document(w, h, body_fn, title)
  local out = {
    '<?xml version="1.0" encoding="UTF-8"?>',
    fmt('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13">', w, h, w, h),
    fmt('<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>', w, h),
  }
  if title then
    out[#out + 1] = fmt('<text x="%s" y="24" text-anchor="middle" font-size="17" font-weight="bold" fill="#111111">%s</text>', n1(w / 2), escape(title))
  end
  body_fn(out)
  out[#out + 1] = '</svg>'
  return table.concat(out, "\n") .. "\n"
end

---------------------------------------------------------------------------------------
-- Terminal backend: braille canvas (or ASCII), axes, legend

-- Bit of dot (dx, dy) in a braille cell, dx 0..1, dy 0..3.
local BRAILLE_BIT = {[0] = {[0] = 0x01, 0x02, 0x04, 0x40}, {[0] = 0x08, 0x10, 0x20, 0x80}}

local function new_canvas(cols, rows, ascii)
  return {cols = cols, rows = rows, dw = ascii and 1 or 2, dh = ascii and 1 or 4, ascii = ascii,
    bits = {}, who = {}}
end

local function dot(c, x, y, s)
  if x < 0 or y < 0 or x >= c.cols * c.dw or y >= c.rows * c.dh then return end
  local cx, cy = x // c.dw, y // c.dh
  local i = cy * c.cols + cx + 1
  if c.ascii then
    c.bits[i] = 1
  else
    c.bits[i] = (c.bits[i] or 0) | BRAILLE_BIT[x % 2][y % 4]
  end
  c.who[i] = s
end

-- Bresenham from (x0, y0) to (x1, y1) in dots; `pat` is an on/off pattern, state a
-- counter carried along the whole series so dashes run across segments.
local function seg(c, x0, y0, x1, y1, s, pat, state)
  local dx, dy = abs(x1 - x0), -abs(y1 - y0)
  local sx, sy = x0 < x1 and 1 or -1, y0 < y1 and 1 or -1
  local err = dx + dy
  local period = 0
  if pat then for _, p in ipairs(pat) do period = period + p end end
  while true do
    local on = true
    if pat then
      local t = state.k % period
      local acc = 0
      for j, p in ipairs(pat) do
        acc = acc + p
        if t < acc then on = (j % 2 == 1); break end
      end
      state.k = state.k + 1
    end
    if on then dot(c, x0, y0, s) end
    if x0 == x1 and y0 == y1 then break end
    local e2 = 2 * err
    if e2 >= dy then err = err + dy; x0 = x0 + sx end
    if e2 <= dx then err = err + dx; y0 = y0 + sy end
  end
end

local function dot_xy(c, P, x, y)
  local ux, uy = unit(P.xs, x), unit(P.ys, y)
  if not ux or not uy then return nil end
  local W, H = c.cols * c.dw, c.rows * c.dh
  return floor(ux * (W - 1) + 0.5), floor((1 - uy) * (H - 1) + 0.5)
end

local function draw_series(c, P, s, i, patterns)
  local state = {k = 0}
  local pat = patterns and s.style.tdash or nil
  local px, py
  for k = 1, #s.y do
    local x, y = dot_xy(c, P, s.x[k], s.y[k])
    if x then
      if px then seg(c, px, py, x, y, i, pat, state) else dot(c, x, y, i) end
      if c.ascii and P.markers then dot(c, x, y, i) end
      px, py = x, y
    else
      px, py = nil, nil
    end
  end
end

local function ansi(code, text, on)
  if not on or not code then return text end
  return "\27[" .. code .. "m" .. text .. "\27[0m"
end

-- Row r of the canvas as text; colours by the series that drew last in each cell.
local function canvas_row(c, r, styles, color)
  local parts, run, runcode = {}, {}, nil
  local function flush()
    if #run > 0 then parts[#parts + 1] = ansi(runcode, table.concat(run), color) end
    run = {}
  end
  for cx = 1, c.cols do
    local i = (r - 1) * c.cols + cx
    local b, who = c.bits[i], c.who[i]
    local ch, code
    if c.ascii then
      ch = b and (styles[who] and styles[who].mark or "#") or " "
    else
      ch = utf8.char(0x2800 + (b or 0))
      if not b then ch = " " end
    end
    code = b and styles[who] and styles[who].ansi or nil
    if code ~= runcode then flush(); runcode = code end
    run[#run + 1] = ch
  end
  flush()
  return table.concat(parts)
end

local function visible_len(s)
  s = s:gsub("\27%[[%d;]*m", "")
  return utf8.len(s) or #s
end

local function pad_right(s, w)
  local n = visible_len(s)
  if n >= w then return s end
  return s .. string.rep(" ", w - n)
end

local function center(s, w)
  local n = visible_len(s)
  if n >= w then return s end
  local l = (w - n) // 2
  return string.rep(" ", l) .. s
end

-- The x axis of a terminal plot: the rule with tick marks, the tick labels (skipping
-- any that would overlap the previous one) and the axis label, appended to out. colof
-- maps a tick's position in [0, 1] to its column (1..cols).
local function x_axis(out, P, T, m, cols, W, colof)
  local xt, xstep = axis_ticks(P.xs, math.max(2, floor(cols / 12)))
  local axis, lab_line = {}, {}
  for k = 1, cols do axis[k] = T.ascii and "-" or "─" end
  for k = 1, W do lab_line[k] = " " end
  local last_end = 0
  for _, v in ipairs(xt) do
    local u = unit(P.xs, v)
    if u and u >= -1e-9 and u <= 1 + 1e-9 then
      local col = colof(u)
      axis[col] = T.ascii and "+" or "┬"
      local text = tick_label(v, xstep, P.xs.log)
      local start = m + 2 + col - (#text - 1) // 2
      if start + #text - 1 > W then start = W - #text + 1 end
      if start < 1 then start = 1 end
      if start > last_end + 1 or last_end == 0 then
        for j = 1, #text do lab_line[start + j - 1] = text:sub(j, j) end
        last_end = start + #text - 1
      end
    end
  end
  out[#out + 1] = string.rep(" ", m + 1) .. (T.ascii and "+" or "└") .. table.concat(axis)
  out[#out + 1] = (table.concat(lab_line):gsub("%s+$", ""))
  if P.xlabel then out[#out + 1] = string.rep(" ", m + 2) .. center(P.xlabel, cols) end
end

local function legend_sample(st, T)
  if T.ascii then return string.rep(st.mark, 3) end
  if T.color then return ansi(st.ansi, "━━━", true) end
  local c = new_canvas(3, 1, false)
  seg(c, 0, 1, 5, 1, 1, st.tdash, {k = 0})
  return canvas_row(c, 1, {}, false)
end

-- Wraps legend entries into lines of at most w columns.
local function legend_lines(P, T, w)
  local entries = {}
  for _, s in ipairs(P.series) do
    if s.label then entries[#entries + 1] = legend_sample(s.style, T) .. " " .. s.label end
  end
  if #entries == 0 or not P.legend then return {} end
  local lines, cur = {}, ""
  for _, e in ipairs(entries) do
    if cur ~= "" and visible_len(cur) + 3 + visible_len(e) > w then
      lines[#lines + 1] = cur
      cur = ""
    end
    cur = cur == "" and e or (cur .. "   " .. e)
  end
  lines[#lines + 1] = cur
  return lines
end

-- A line or hist panel as a list of text lines, exactly T.width wide and T.height high.
-- Lines above and below the plot rows of a line or hist panel.
local function term_xy_measure(P, T)
  local head = (P.title and 1 or 0) + (P.ylabel and 1 or 0)
  local foot = 2 + (P.xlabel and 1 or 0) + #legend_lines(P, T, T.width) + #P.notes
  return head, foot
end

-- T.head / T.foot (optional) pad the lines above / below the plot rows to that many, so
-- panels side by side line up.
local function term_xy_panel(P, T)
  local W, H = T.width, T.height
  local out = {}
  local head, foot = term_xy_measure(P, T)
  for _ = head + 1, T.head or head do out[#out + 1] = "" end
  if P.title then out[#out + 1] = center(P.title, W) end
  if P.ylabel then out[#out + 1] = P.ylabel end
  local legend = legend_lines(P, T, W)
  local rows = H - #out - math.max(foot, T.foot or foot)
  if rows < 2 then rows = 2 end
  local yt, ystep = axis_ticks(P.ys, math.max(2, floor(rows / 3)))
  local ylabels, m = {}, 1
  for i, v in ipairs(yt) do
    ylabels[i] = tick_label(v, ystep, P.ys.log)
    m = math.max(m, #ylabels[i])
  end
  local cols = W - m - 2
  if cols < 4 then cols = 4 end
  local c = new_canvas(cols, rows, T.ascii)
  local styles = {}
  if P.kind == "line" then
    local patterns = not T.color and not T.ascii and #P.series > 1
    for i, s in ipairs(P.series) do
      styles[i] = s.style
      draw_series(c, P, s, i, patterns)
    end
  else -- hist: fill each dot column up to its bin's count
    styles[1] = style(1)
    local Wd, Hd = cols * c.dw, rows * c.dh
    local nb = #P.counts
    for x = 0, Wd - 1 do
      -- the bin under the centre of this dot column
      local u = (x + 0.5) / Wd
      local b = math.min(nb, floor(u * nb) + 1)
      local cnt = P.counts[b]
      local uy = cnt > 0 and unit(P.ys, cnt) or nil
      if uy then
        local ytop = floor((1 - uy) * (Hd - 1) + 0.5)
        if ytop < Hd - 1 or cnt > 0 then
          for y = math.max(0, ytop), Hd - 1 do dot(c, x, y, 1) end
        end
      end
    end
  end
  -- which rows carry a y tick
  local tick_at = {}
  for i, v in ipairs(yt) do
    local u = unit(P.ys, v)
    if u and u >= -1e-9 and u <= 1 + 1e-9 then
      local row = floor(floor((1 - u) * (rows * c.dh - 1) + 0.5) / c.dh) + 1
      tick_at[row] = ylabels[i]
    end
  end
  local vbar, vtick = T.ascii and "|" or "│", T.ascii and "+" or "┤"
  for r = 1, rows do
    local lab = tick_at[r]
    out[#out + 1] = string.rep(" ", m - #(lab or "")) .. (lab or "") .. " " .. (lab and vtick or vbar)
      .. canvas_row(c, r, styles, T.color)
  end
  -- x axis with tick marks and labels
  x_axis(out, P, T, m, cols, W, function(u) return floor(floor(u * (cols * c.dw - 1) + 0.5) / c.dw) + 1 end)
  for _, l in ipairs(legend) do out[#out + 1] = string.rep(" ", m + 2) .. l end
  for _, n in ipairs(P.notes) do out[#out + 1] = string.rep(" ", m + 2) .. n end
  return out
end

local EIGHTHS = {"▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"}

local function term_bar_panel(P, T)
  local W = T.width
  local out = {}
  if P.title then out[#out + 1] = center(P.title, W) end
  local m = 1
  for _, l in ipairs(P.labels) do m = math.max(m, visible_len(l)) end
  m = math.min(m, math.max(8, W // 3))
  local vals, vw = {}, 0
  for i, v in ipairs(P.values) do
    vals[i] = value_label(v)
    vw = math.max(vw, #vals[i])
  end
  local cols = W - m - 3 - vw
  if cols < 4 then cols = 4 end
  local base = P.xs.log and 0 or unit(P.xs, 0)
  local st = style(1)
  local neg = style(2)
  for i, v in ipairs(P.values) do
    local label = P.labels[i]
    if visible_len(label) > m then label = label:sub(1, m - 1) .. "~" end
    local u = unit(P.xs, v)
    local bar = ""
    local pos0 = floor(base * cols + 0.5)
    if u then
      local len8 = floor(abs(u - base) * cols * 8 + 0.5)
      local full, rest = len8 // 8, len8 % 8
      if T.ascii then
        bar = string.rep("#", floor(len8 / 8 + 0.5))
      else
        bar = string.rep("█", full) .. (rest > 0 and EIGHTHS[rest] or "")
      end
      if v < 0 then
        local w = visible_len(bar)
        bar = string.rep(" ", math.max(0, pos0 - w)) .. ansi(neg.ansi, bar, T.color)
      else
        bar = string.rep(" ", pos0) .. ansi(st.ansi, bar, T.color)
      end
    end
    out[#out + 1] = string.rep(" ", m - visible_len(label)) .. label .. " " .. (T.ascii and "|" or "│")
      .. pad_right(bar, cols) .. " " .. vals[i]
  end
  x_axis(out, P, T, m, cols, W, function(u) return math.min(cols, floor(u * cols + 0.5) + 1) end)
  for _, n in ipairs(P.notes) do out[#out + 1] = string.rep(" ", m + 2) .. n end
  return out
end

-- Interval rows in the terminal: the error bar as a rule, the estimate as a dot, the
-- numbers after it.
local function term_interval_panel(P, T)
  local W = T.width
  local out = {}
  if P.title then out[#out + 1] = center(P.title, W) end
  local m, tw = 1, 0
  for i, l in ipairs(P.labels) do
    m = math.max(m, visible_len(l))
    tw = math.max(tw, visible_len(interval_text(P, i)))
  end
  m = math.min(m, math.max(8, W // 3))
  local cols = math.max(4, W - m - 3 - tw)
  local function col(v)
    local u = unit(P.xs, v)
    return u and math.max(1, math.min(cols, floor(u * (cols - 1) + 0.5) + 1)) or nil
  end
  for i, v in ipairs(P.values) do
    local st = style(i)
    local cells = {}
    for k = 1, cols do cells[k] = " " end
    local a, b, c = col(P.lo[i]), col(P.hi[i]), col(v)
    if a and b then for k = a, b do cells[k] = T.ascii and "-" or "─" end end
    if c then cells[c] = ansi(st.ansi, T.ascii and st.mark or "●", T.color) end
    local label = P.labels[i]
    if visible_len(label) > m then label = label:sub(1, m - 1) .. "~" end
    out[#out + 1] = string.rep(" ", m - visible_len(label)) .. label .. " " .. (T.ascii and "|" or "│")
      .. table.concat(cells) .. " " .. interval_text(P, i)
  end
  x_axis(out, P, T, m, cols, W, function(u) return math.max(1, math.min(cols, floor(u * (cols - 1) + 0.5) + 1)) end)
  for _, n in ipairs(P.notes) do out[#out + 1] = string.rep(" ", m + 2) .. n end
  return out
end

local function term_panel(P, T)
  if P.kind == "bar" then return term_bar_panel(P, T) end
  if P.kind == "interval" then return term_interval_panel(P, T) end
  return term_xy_panel(P, T)
end

---------------------------------------------------------------------------------------
-- Rendering one panel or a grid of panels to the chosen output

local COMMON_OUT = {"file", "width", "height", "ascii", "print", "color"}

local function check_output_opts(fname, o)
  for _, k in ipairs({"width", "height"}) do
    local v = o[k]
    if v ~= nil and (type(v) ~= "number" or v ~= v or v < 1 or v > 100000) then
      fail(fname, "option '%s' expected a positive number, got %s", k, typename(v))
    end
  end
  for _, k in ipairs({"ascii", "print", "color"}) do
    if o[k] ~= nil and type(o[k]) ~= "boolean" then
      fail(fname, "option '%s' expected a boolean, got %s", k, typename(o[k]))
    end
  end
  return output_kind(fname, o.file)
end

-- panels: list of prepared panels; layout columns; o: output options.
local function render(fname, panels, columns, o, title)
  local kind = check_output_opts(fname, o)
  local n = #panels
  columns = math.max(1, math.min(columns or 1, n))
  local nrows = ceil(n / columns)
  if kind == "svg" then
    local pw = o.width and floor(o.width / columns) or (columns == 1 and 720 or 500)
    local ph = o.height and floor((o.height - (title and 36 or 0)) / nrows) or (columns == 1 and 440 or 380)
    if pw < 120 or ph < 100 then
      fail(fname, "the SVG is too small for %d panel%s (width %d, height %d per panel)", n, n == 1 and "" or "s", pw, ph)
    end
    local top = title and 36 or 0
    local text = svg_document(pw * columns, ph * nrows + top, function(out)
      for i, P in ipairs(panels) do
        local r, c = (i - 1) // columns, (i - 1) % columns
        svg_panel(out, P, c * pw, top + r * ph, pw, ph)
      end
    end, title)
    return write_file(fname, o.file, text)
  end
  local T = term_setup(o)
  local gap = 3
  local pw = floor((T.width - gap * (columns - 1)) / columns)
  local lines = {}
  if title then lines[1] = center(title, T.width) end
  local ph = T.height - #lines
  if nrows > 1 then ph = math.max(8, floor(ph / nrows)) end
  for r = 0, nrows - 1 do
    local blocks, tall = {}, 0
    local head, foot = 0, 0
    for c = 0, columns - 1 do
      local P = panels[r * columns + c + 1]
      if P and P.kind ~= "bar" and P.kind ~= "interval" then
        local h, f = term_xy_measure(P, {width = pw, color = T.color, ascii = T.ascii})
        head, foot = math.max(head, h), math.max(foot, f)
      end
    end
    for c = 0, columns - 1 do
      local P = panels[r * columns + c + 1]
      if P then
        local t = {width = pw, height = ph, color = T.color, ascii = T.ascii, head = head, foot = foot}
        blocks[#blocks + 1] = term_panel(P, t)
        tall = math.max(tall, #blocks[#blocks])
      end
    end
    for k = 1, tall do
      local parts = {}
      for b, blk in ipairs(blocks) do
        local s = blk[k] or ""
        parts[b] = b < #blocks and pad_right(s, pw) or s
      end
      lines[#lines + 1] = (table.concat(parts, string.rep(" ", gap)):gsub("%s+$", ""))
    end
    if r < nrows - 1 then lines[#lines + 1] = "" end
  end
  return emit_text(o, table.concat(lines, "\n") .. "\n")
end

---------------------------------------------------------------------------------------
-- Public functions

local function line_impl(fname, o)
  if type(o) ~= "table" then fail(fname, "argument #1 (options) expected a table, got %s", typename(o)) end
  local P = prepare_line(fname, o)
  return render(fname, {P}, 1, o)
end

plot.line = public(function(o) return line_impl("actrun.plot.line", o) end)

plot.hist = public(function(data, o)
  local fname = "actrun.plot.hist"
  o = o or {}
  if type(o) ~= "table" then fail(fname, "argument #2 (options) expected a table, got %s", typename(o)) end
  if o.data ~= nil then fail(fname, "unknown option 'data' (the data is argument #1)") end
  if type(data) == "table" and not actrun.is_tensor(data) and data[1] == nil and next(data) ~= nil then
    -- plot.hist{data=x, bins=20}: the options where the data belongs
    local keys = {}
    for k in pairs(data) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    fail(fname, "argument #1 (data) is a table of options (%s), not data: call plot.hist(data, {%s})",
      table.concat(keys, ", "), "bins=, ...")
  end
  if o.type ~= nil then fail(fname, "unknown option 'type'") end
  local P = prepare_hist(fname, data, o)
  local res = render(fname, {P}, 1, o)
  -- drawn on the terminal: the counts and edges went with it (the REPL shows neither)
  if not o.file and o.print ~= false then util.displayed(P.counts, P.edges) end
  return P.counts, P.edges, res
end)

plot.bar = public(function(o)
  local fname = "actrun.plot.bar"
  if type(o) ~= "table" then fail(fname, "argument #1 (options) expected a table, got %s", typename(o)) end
  local P = prepare_bar(fname, o)
  local oo = o
  if o.height == nil and not o.file then
    -- one row a bar (plus axis, title) unless asked otherwise
    oo = setmetatable({height = #P.values + 3 + (o.title and 1 or 0)}, {__index = o})
  elseif o.height == nil and o.file then
    oo = setmetatable({height = math.max(220, 34 * #P.values + 110)}, {__index = o})
  end
  return render(fname, {P}, 1, oo)
end)

-- One panel of a grid: plot.line's options, or {type="hist", data=, ...}, {type="bar", ...}.
local function prepare_panel(fname, spec, i)
  local pname = fmt("%s: panel %d", fname, i)
  if type(spec) ~= "table" or actrun.is_tensor(spec) then
    fail(fname, "panel %d expected an options table, got %s", i, typename(spec))
  end
  local t = spec.type or "line"
  if t == "line" then return prepare_line(pname, spec)
  elseif t == "hist" then
    if spec.data == nil then fail(pname, "a hist panel needs data= (a tensor or array)") end
    local P = prepare_hist(pname, spec.data, spec)
    return P
  elseif t == "bar" then return prepare_bar(pname, spec)
  elseif t == "interval" then return prepare_interval(pname, spec)
  end
  fail(fname, "panel %d: unknown type '%s' (line, hist, bar or interval)", i, tostring(t))
end

local GRID_SET = make_set({"plots", "columns", "file", "title", "width", "height", "ascii", "print", "color"})

local function grid_impl(fname, o)
  if type(o) ~= "table" then fail(fname, "argument #1 (options) expected a table, got %s", typename(o)) end
  check_options(fname, o, GRID_SET)
  if type(o.plots) ~= "table" or #o.plots == 0 then
    fail(fname, "option 'plots' expected a non-empty list of panels, got %s", typename(o.plots))
  end
  local columns = opt_type(fname, o, "columns", "integer", math.min(#o.plots, 2))
  if columns < 1 then fail(fname, "option 'columns' must be >= 1, got %d", columns) end
  local panels = {}
  for i, spec in ipairs(o.plots) do panels[i] = prepare_panel(fname, spec, i) end
  return render(fname, panels, columns, o, opt_type(fname, o, "title", "string"))
end

plot.grid = public(function(o) return grid_impl("actrun.plot.grid", o) end)

local ACT_SET = make_set({"names", "from", "to", "derivative", "params", "file", "n", "title",
  "width", "height", "ascii", "print", "color", "ylog"})

-- Values and derivatives of activation `name` on n points of [from, to]: one forward
-- and one backward pass (autograd gives f' for built-ins and Lua-defined ones alike).
local function eval_activation(fname, name, from, to, n, params)
  local act = actrun.act
  local x = actrun.linspace(from, to, n)
  x.requires_grad = true
  local ok, y = pcall(act.apply, name, x, params)
  if not ok then
    local msg = tostring(y):gsub("^[^\n]-:%d+: ", "")
    if msg:find("unknown activation", 1, true) then
      fail(fname, "unknown activation '%s' (see act.list())", name)
    end
    fail(fname, "%s: %s", name, msg)
  end
  if not actrun.is_tensor(y) or y:numel() ~= n then
    fail(fname, "activation '%s' did not return a tensor of %d values", name, n)
  end
  local g
  if y.requires_grad then
    y:sum():backward()
    g = x.grad
  end
  local xv = x:detach():totable()
  local yv = y:detach():reshape(n):totable()
  local gv
  if g then gv = g:totable() else gv = {} for k = 1, n do gv[k] = 0 end end
  return xv, yv, gv
end

local function label_with_params(name, p)
  if not p or next(p) == nil then return name end
  local parts = {}
  for _, k in ipairs(sorted_keys(p)) do parts[#parts + 1] = fmt("%s=%s", k, tostring(p[k])) end
  return name .. "(" .. table.concat(parts, ", ") .. ")"
end

plot.activations = public(function(o)
  local fname = "actrun.plot.activations"
  if type(o) ~= "table" then fail(fname, "argument #1 (options) expected a table, got %s", typename(o)) end
  check_options(fname, o, ACT_SET)
  local names = o.names
  if type(names) == "string" then
    local list = {}
    for nm in names:gmatch("[^,%s]+") do list[#list + 1] = nm end
    names = list
  end
  if type(names) ~= "table" or #names == 0 then
    fail(fname, "option 'names' expected a list of activation names, got %s", typename(o.names))
  end
  local from = opt_type(fname, o, "from", "number", -5)
  local to = opt_type(fname, o, "to", "number", 5)
  if not (from < to) or not is_finite(from) or not is_finite(to) then
    fail(fname, "'from' must be less than 'to' (both finite), got from=%.14g, to=%.14g", from, to)
  end
  local n = opt_type(fname, o, "n", "integer", 801)
  if n < 2 or n > 1000000 then fail(fname, "option 'n' must be 2..1000000, got %d", n) end
  local deriv = o.derivative
  if deriv == nil then deriv = true end
  if deriv ~= true and deriv ~= false and deriv ~= "both" and deriv ~= "only" then
    fail(fname, "option 'derivative' expected true, false, \"both\" or \"only\", got %s", typename(deriv))
  end
  local params = o.params
  if params ~= nil and type(params) ~= "table" then
    fail(fname, "option 'params' expected a table, got %s", typename(params))
  end
  -- params: {name = {...}} per activation, or one flat table for every name
  local per_name = true
  if params then
    for _, v in pairs(params) do if type(v) ~= "table" then per_name = false end end
  end
  local fs, ds = {}, {}
  for i, name in ipairs(names) do
    if type(name) ~= "string" then
      fail(fname, "names[%d] expected a string, got %s", i, typename(name))
    end
    local p = params and (per_name and params[name] or (not per_name and params)) or nil
    local x, y, g = eval_activation(fname, name, from, to, n, p)
    local label = label_with_params(name, p)
    fs[#fs + 1] = {x = x, y = y, label = label}
    ds[#ds + 1] = {x = x, y = g, label = label}
  end
  local out = {file = o.file, width = o.width, height = o.height, ascii = o.ascii, print = o.print,
    color = o.color}
  if deriv == true then
    -- in the terminal one legend serves both panels (side by side, same styles)
    return grid_impl(fname, {plots = {
      {series = fs, title = "f(x)", xlabel = "x"},
      {series = ds, title = "f'(x)", xlabel = "x", legend = o.file ~= nil}},
      columns = 2, title = o.title, file = out.file, width = out.width, height = out.height,
      ascii = out.ascii, print = out.print, color = out.color})
  end
  local series, title = fs, "f(x)"
  if deriv == "only" then series, title = ds, "f'(x)"
  elseif deriv == "both" then
    series = {}
    for i = 1, #fs do
      series[#series + 1] = fs[i]
      series[#series + 1] = {x = ds[i].x, y = ds[i].y, label = ds[i].label .. "'"}
    end
    title = "f(x) and f'(x)"
  end
  out.series, out.title, out.xlabel = series, o.title or title, "x"
  return line_impl(fname, out)
end)

-- Exposed for tests and for scripts that lay out their own axes.
plot.ticks = public(function(lo, hi, o)
  local fname = "actrun.plot.ticks"
  if type(lo) ~= "number" or type(hi) ~= "number" or not (lo < hi) then
    fail(fname, "expected two numbers lo < hi, got %s and %s", typename(lo), typename(hi))
  end
  o = o or {}
  check_options(fname, o, make_set({"log", "count"}))
  local log = opt_type(fname, o, "log", "boolean", false)
  if log and lo <= 0 then fail(fname, "a log axis needs lo > 0, got %.14g", lo) end
  local list, step = ticks(lo, hi, log, opt_type(fname, o, "count", "integer", 6))
  local labels = {}
  for i, v in ipairs(list) do labels[i] = tick_label(v, step, log) end
  return list, labels
end)

return plot
