-- actrun.report: one self-contained HTML page per comparison (lab.report,
-- lab.compare{report=}, `actrun report CSV`).
--
-- The page must open anywhere, years later, without a network: styles, the figure (inline
-- SVG) and the one small script are inline, and nothing refers to another file. Tables
-- and figure are plain HTML/SVG, so the page reads the same with JavaScript off; the
-- script only makes table columns sortable.

local actrun = require "actrun"
local util = require "actrun.util"

local fmt = string.format
local typename, check_opts = util.typename, util.check_opts

local report = {}

local function lab() return require "actrun.lab" end

---------------------------------------------------------------------------------------
-- Text

-- Text for HTML (element content and quoted attributes alike); control characters are
-- dropped and bytes that are not UTF-8 replaced, so any Lua string makes a valid page.
local function esc(s)
  s = tostring(s):gsub("[%z\1-\8\11\12\14-\31\127]", "")
  if not utf8.len(s) then s = s:gsub("[\128-\255]", "?") end
  return (s:gsub('[&<>"\']', {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ['"'] = "&quot;", ["'"] = "&#39;"}))
end
report._escape = esc

local function pct(v, digits)
  if type(v) ~= "number" or v ~= v then return "–" end
  return fmt("%." .. (digits or 2) .. "f", 100 * v)
end

-- Percentage points with a sign; an exact tie's rounding noise shows as +0.00.
local function points(v)
  return (fmt("%+.2f", 100 * v):gsub("^%-(0%.00)$", "+%1"))
end

local function num(v, f)
  if type(v) ~= "number" or v ~= v then return "–" end
  return fmt(f or "%.4g", v)
end

-- A table cell with a sort key for the script (numbers sort as numbers).
local function td(text, key, class)
  local attrs = ""
  if key ~= nil and type(key) == "number" and key == key then
    attrs = fmt(' data-v="%.17g"', key)
  end
  if class then attrs = attrs .. fmt(' class="%s"', class) end
  return fmt("<td%s>%s</td>", attrs, text)
end

---------------------------------------------------------------------------------------
-- The machine and the setup

local function cpu_name()
  local f = io.open("/proc/cpuinfo", "r")
  if not f then return nil end
  local name, cores
  for line in f:lines() do
    local k, v = line:match("^([^:]-)%s*:%s*(.-)%s*$")
    if k == "model name" or (k == "Hardware" and not name) then name = name or v end
    if k == "processor" then cores = (cores or 0) + 1 end
  end
  f:close()
  if name and cores then return fmt("%s (%d logical CPUs)", name, cores) end
  return name
end

local function build_info()
  local ok, info = pcall(actrun.build_info)
  if ok and type(info) == "table" then return info end
  return {}
end

-- Fields of a row that are results, not the setup it ran with.
local RESULT = {activation = true, seed = true, params = true, train_loss = true,
  train_accuracy = true, test_loss = true, test_accuracy = true, seconds = true,
  dead_fraction = true, grad_norm_first = true, grad_norm_last = true, history = true}

-- The setup first, the machine last; anything else alphabetically in between.
local SETUP_ORDER = {"task", "model", "epochs", "batch", "seeds", "optimizer", "lr", "init",
  "actrun_version", "simd", "threads"}

local SETUP_RANK = {}
for i, k in ipairs(SETUP_ORDER) do SETUP_RANK[k] = i end
local function setup_before(a, b)
  local ra, rb = SETUP_RANK[a] or 50, SETUP_RANK[b] or 50
  if ra ~= rb then return ra < rb end
  return a < b
end

-- The rows' other scalar fields (the CSV's provenance columns, lr, epochs): a list of
-- {name, value} for those equal on every row, and the names of those that vary (they go
-- in the per-run table).
local function row_setup(rows)
  local seen, varies = {}, {}
  for _, r in ipairs(rows) do
    for k, v in pairs(r) do
      local t = type(v)
      if type(k) == "string" and not RESULT[k] and (t == "string" or t == "number" or
          t == "boolean") then
        if seen[k] == nil then seen[k] = v elseif seen[k] ~= v then varies[k] = true end
      end
    end
  end
  for k in pairs(seen) do
    for _, r in ipairs(rows) do
      if r[k] == nil then varies[k] = true end
    end
  end
  local const, var = {}, {}
  for k, v in pairs(seen) do
    if varies[k] then var[#var + 1] = k else const[#const + 1] = {k, v} end
  end
  table.sort(const, function(a, b) return setup_before(a[1], b[1]) end)
  table.sort(var, setup_before)
  return const, var
end

-- setup entries from the caller (lab.compare) win over the rows' own; one order for
-- both, so a page from lab.compare and one from its CSV list the setup alike.
local function merge_setup(given, from_rows)
  local out, have = {}, {}
  for _, e in ipairs(given or {}) do
    out[#out + 1] = e
    have[e[1]] = true
  end
  for _, e in ipairs(from_rows) do
    if not have[e[1]] then out[#out + 1] = e end
  end
  table.sort(out, function(a, b) return setup_before(a[1], b[1]) end)
  return out
end

---------------------------------------------------------------------------------------
-- The page

local CSS = [[
:root{--fg:#1a1a1a;--muted:#5c5c5c;--rule:#d0d0d0;--tie:#0072B2;--bg:#fff}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 "Charter","Georgia",
"Cambria","Times New Roman",serif}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.7rem;line-height:1.2;margin:0 0 .3rem;font-weight:600}
h2{font-size:1.2rem;margin:2.2rem 0 .6rem;padding-bottom:.2rem;border-bottom:1px solid var(--rule);
font-weight:600}
p,dl,figure{margin:.6rem 0}
.meta{color:var(--muted);font-size:.92rem;margin:0}
.note{font-size:.92rem;color:var(--muted);max-width:42rem}
.read{background:#f5f7fa;border-left:3px solid var(--tie);padding:.5rem .8rem;font-size:.94rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;font:14px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,
"DejaVu Sans",sans-serif;font-variant-numeric:tabular-nums;margin:.4rem 0}
caption{caption-side:bottom;text-align:left;color:var(--muted);font-size:.85rem;padding-top:.3rem}
th,td{padding:.3rem .65rem;text-align:right;white-space:nowrap;border-bottom:1px solid #ececec}
thead th{border-bottom:1.5px solid var(--fg);font-weight:600;vertical-align:bottom}
tbody tr:last-child td{border-bottom:1.5px solid var(--fg)}
th.l,td.l{text-align:left}
th[data-sort]{cursor:pointer}
th[data-sort]:hover{text-decoration:underline}
td.tie{color:var(--tie);font-weight:700;text-align:center}
tr.best td{font-weight:600}
.sw{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.45em;
vertical-align:-.05em;-webkit-print-color-adjust:exact;print-color-adjust:exact}
figure{margin:1rem 0}
figure svg{max-width:100%;height:auto;display:block}
figcaption{font-size:.88rem;color:var(--muted);margin-top:.3rem}
dl.setup{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;font-size:.94rem}
dl.setup dt{color:var(--muted)}
dl.setup dd{margin:0;overflow-wrap:anywhere}
code{font:.88em/1.4 ui-monospace,"DejaVu Sans Mono",monospace}
details summary{cursor:pointer;color:var(--muted)}
footer{margin-top:2.5rem;font-size:.85rem;color:var(--muted)}
@media (max-width:40rem){body{font-size:15px}main{padding:1rem .7rem 2rem}
h1{font-size:1.4rem}th,td{padding:.25rem .45rem}dl.setup{grid-template-columns:1fr}
dl.setup dd{margin-bottom:.3rem}}
@media print{@page{margin:1.6cm}body{font-size:10.5pt;color:#000}main{max-width:none;padding:0}
.scroll{overflow:visible}table{font-size:8.5pt}h2{break-after:avoid;page-break-after:avoid}
figure,table,tr{break-inside:avoid;page-break-inside:avoid}th[data-sort]{cursor:auto}
details>summary{display:none}details{display:block}.read{background:none}}
]]

-- Sorting by a click on a column header: only a convenience, the page does not need it.
local SCRIPT = [[
document.querySelectorAll("th[data-sort]").forEach(function(th){
  th.addEventListener("click",function(){
    var table=th.closest("table"),body=table.tBodies[0],i=th.cellIndex;
    var asc=th.getAttribute("aria-sort")!=="ascending";
    table.querySelectorAll("th").forEach(function(h){h.removeAttribute("aria-sort")});
    th.setAttribute("aria-sort",asc?"ascending":"descending");
    var rows=Array.prototype.slice.call(body.rows);
    function key(r){var c=r.cells[i];var v=c.getAttribute("data-v");
      return v===null?c.textContent:parseFloat(v)}
    rows.sort(function(a,b){var x=key(a),y=key(b);
      var d=typeof x==="number"&&typeof y==="number"?x-y:String(x).localeCompare(String(y));
      return asc?d:-d});
    rows.forEach(function(r){body.appendChild(r)});
  });
});
]]

local function th(text, class, sortable)
  local a = ""
  if class then a = a .. fmt(' class="%s"', class) end
  if sortable ~= false then a = a .. ' data-sort=""' end
  return fmt('<th scope="col"%s>%s</th>', a, text)
end

-- The SVG of the figure ready to sit inside HTML: no XML declaration, no namespace
-- attribute (HTML puts <svg> in its namespace itself, and the page then names no URL).
-- Element ids (clip paths, markers) and the references to them get the figure's own
-- prefix: ids are global to the page, and two figures must not share or clip each other's.
local function inline_svg(text, id, label)
  text = text:gsub("^%s*<%?xml[^>]*%?>%s*", "")
  text = text:gsub('(<svg[^>]-)%s+xmlns="[^"]*"', "%1", 1)
  text = text:gsub('id="actrun%-', 'id="' .. id .. "-"):gsub("#actrun%-", "#" .. id .. "-")
  return (text:gsub("(<svg)", fmt('%%1 role="img" aria-label="%s"', esc(label)), 1))
end

-- f and f' of the activations (plot.activations) as SVG text, in summary order so that
-- each keeps its colour; names plot cannot evaluate alone (maxout: a layer, not a
-- function) are left out. Returns text, the names drawn, and whether any was left out.
local function activations_svg(names)
  local ok, plot = pcall(require, "actrun.plot")
  if not ok or type(plot) ~= "table" or type(plot.activations) ~= "function" then return nil end
  local act = actrun.act
  local drawn = {}
  for _, n in ipairs(names) do
    if pcall(act.scalar, n, 0.5) then drawn[#drawn + 1] = n end
  end
  if #drawn == 0 then return nil end
  local tmp = os.tmpname()
  os.remove(tmp)
  local path = tmp .. ".svg"
  local done = pcall(plot.activations, {names = drawn, file = path, from = -4, to = 4,
    n = 401, width = 1040, height = 400})
  local f = done and io.open(path, "rb")
  local text = f and f:read("a")
  if f then f:close() end
  os.remove(path)
  if not text then return nil end
  return text, drawn, #drawn < #names
end

local function swatch(colors, i)
  return fmt('<span class="sw" style="background:%s" aria-hidden="true"></span>',
    colors[(i - 1) % #colors + 1])
end

local function palette_colors()
  local ok, plot = pcall(require, "actrun.plot")
  if ok and type(plot) == "table" and plot.palette then return plot.palette.colors end
  return {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
    "#999999"}
end

local function seed_list(rows)
  local seeds, seen = {}, {}
  for _, r in ipairs(rows) do
    if r.seed ~= nil and not seen[r.seed] then
      seen[r.seed] = true
      seeds[#seeds + 1] = r.seed
    end
  end
  table.sort(seeds, function(a, b)
    if type(a) == "number" and type(b) == "number" then return a < b end
    return tostring(a) < tostring(b)
  end)
  return seeds
end

-- Two small panels, one row per activation in the table's order and colour: the share of
-- dead hidden units, and log10 of the first/last weight-gradient ratio, each seed a dot and
-- the mean a bar. nil when the rows carry neither.
local function health_svg(summary, rows, colors)
  local by = {}
  local any_dead, any_grad = false, false
  for _, r in ipairs(rows) do
    local e = by[r.activation] or {dead = {}, grad = {}}
    by[r.activation] = e
    local d = tonumber(r.dead_fraction)
    if d and d == d then e.dead[#e.dead + 1] = d; any_dead = true end
    local gf, gl = tonumber(r.grad_norm_first), tonumber(r.grad_norm_last)
    if gf and gl and gf > 0 and gl > 0 then
      e.grad[#e.grad + 1] = math.log(gf / gl, 10)
      any_grad = true
    end
  end
  if not (any_dead or any_grad) then return nil end
  local glo, ghi = 0, 0
  for _, e in pairs(by) do
    for _, v in ipairs(e.grad) do glo, ghi = math.min(glo, v), math.max(ghi, v) end
  end
  glo, ghi = math.floor(glo), math.ceil(ghi)
  if ghi - glo < 1 then ghi = glo + 1 end
  local rowh, top, left, pw, gap = 16, 28, 110, 230, 40
  local n = #summary
  local H, W = top + n * rowh + 36, left + 2 * pw + gap + 10
  local o = {fmt('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" ' ..
    'viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">', W, H, W, H)}
  local function panel(x0, title, lo, hi, ticks, label, get)
    o[#o + 1] = fmt('<text x="%d" y="14" font-weight="bold">%s</text>', x0, esc(title))
    local function X(v) return x0 + (v - lo) / (hi - lo) * pw end
    for _, t in ipairs(ticks) do
      o[#o + 1] = fmt('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>', X(t), top - 4,
        X(t), top + n * rowh)
      o[#o + 1] = fmt('<text x="%.1f" y="%d" text-anchor="middle">%s</text>', X(t),
        top + n * rowh + 14, esc(label(t)))
    end
    for i, sm in ipairs(summary) do
      local vals = get(by[sm.activation] or {dead = {}, grad = {}})
      local y = top + (i - 0.5) * rowh
      local c = colors[(i - 1) % #colors + 1]
      if #vals > 0 then
        local m = 0
        for _, v in ipairs(vals) do m = m + v end
        m = m / #vals
        local x1, x2 = X(math.max(lo, math.min(0, m))), X(math.max(lo, math.min(hi, math.max(0, m))))
        o[#o + 1] = fmt('<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s" ' ..
          'fill-opacity="0.35"/>', x1, y - 5, math.max(0.5, x2 - x1), 10, c)
        for _, v in ipairs(vals) do
          o[#o + 1] = fmt('<circle cx="%.1f" cy="%.1f" r="2.2" fill="%s"/>',
            X(math.max(lo, math.min(hi, v))), y, c)
        end
      end
    end
  end
  for i, sm in ipairs(summary) do
    o[#o + 1] = fmt('<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>',
      left - 6, top + (i - 0.5) * rowh, esc(sm.activation))
  end
  if any_dead then -- the axis ends at the next 10% above the largest share
    local dmax = 0
    for _, e in pairs(by) do
      for _, v in ipairs(e.dead) do dmax = math.max(dmax, v) end
    end
    local dhi = math.max(0.1, math.ceil(dmax * 10 - 1e-9) / 10)
    local ticks = {}
    for k = 0, 4 do ticks[#ticks + 1] = dhi * k / 4 end
    panel(left, "dead hidden units (%)", 0, dhi, ticks,
      function(t) return fmt("%g", math.floor(t * 1000 + 0.5) / 10) end,
      function(e) return e.dead end)
  end
  if any_grad then
    local ticks = {}
    for t = glo, ghi do ticks[#ticks + 1] = t end
    panel(left + pw + gap, "grad first/last (log10)", glo, ghi, ticks,
      function(t) return fmt("%g", t) end, function(e) return e.grad end)
  end
  o[#o + 1] = "</svg>"
  return table.concat(o, "\n")
end

local function has_curves(rows)
  for _, r in ipairs(rows) do
    if type(r.history) == "table" and #r.history > 0 then return true end
  end
  return false
end

-- The page's HTML. ctx: title, setup ({name, value} list), seeds, test, alpha, command,
-- source (where the rows came from).
local function html(rows, summary, ctx)
  local L = lab()
  local out = {}
  local function w(...) out[#out + 1] = table.concat({...}) end
  local colors = palette_colors()
  local nseeds = ctx.seeds or #seed_list(rows)
  local s1 = summary[1] or {}
  local test, alpha = ctx.test or s1.test or "t", ctx.alpha or s1.alpha or 0.05
  local test_name = L._TEST_NAMES[test] or test
  local info = build_info()
  local setup = merge_setup(ctx.setup, (row_setup(rows)))
  local _, varying = row_setup(rows)
  local setup_of = {}
  for _, e in ipairs(setup) do setup_of[e[1]] = e[2] end
  local title = ctx.title or ("Activation comparison" ..
    (setup_of.task and (": " .. tostring(setup_of.task)) or ""))
  local version = setup_of.actrun_version or actrun.version

  w('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')
  w('<meta name="viewport" content="width=device-width, initial-scale=1">')
  w('<meta name="generator" content="actrun ', esc(actrun.version), '">')
  w("<title>", esc(title), "</title>")
  w("<style>\n", CSS, "</style>\n</head>\n<body>\n<main>")
  w("<header>\n<h1>", esc(title), "</h1>")
  local acts = {}
  for i, s in ipairs(summary) do acts[i] = s.activation end
  w('<p class="meta">', esc(fmt("%d activations × %d seed%s, %d runs", #summary, nseeds,
    nseeds == 1 and "" or "s", #rows)), " · ", esc(os.date("!%Y-%m-%d %H:%M UTC")),
    " · actrun ", esc(version), "</p>")
  w('<p class="meta">', esc(table.concat(acts, ", ")), "</p>\n</header>")

  -- the ranked table
  w("<section>\n<h2>Ranking</h2>")
  local ref = s1.reference or s1.activation or "best"
  local several = nseeds > 1
  local has_acc = s1.mean ~= nil
  local has_lr = false
  for _, s in ipairs(summary) do if s.lr ~= nil then has_lr = true end end
  w('<div class="scroll"><table class="ranked">')
  w("<thead><tr>", th("rank"), th("activation", "l"),
    th(several and "test accuracy (%)<br>mean ± 95% CI" or "test accuracy (%)"),
    several and th("95% CI (%)", nil, false) or "",
    th('<span title="not distinguishable from the best at this n">tie</span>'),
    th("diff vs " .. esc(ref) .. " (points)" .. (several and "<br>mean [95% CI]" or "")),
    several and th("p (Holm)") or "", th("train loss"), th("dead"), th("grad first/last"),
    has_lr and th("lr") or "", th("seconds"), "</tr></thead>\n<tbody>")
  for i, s in ipairs(summary) do
    local acc = s.mean or s.test_accuracy
    local half = several and s.ci95 and (s.ci95[2] - s.ci95[1]) / 2
    local acc_text = pct(acc)
    if half then acc_text = acc_text .. " ± " .. pct(half) end
    local diff = "–"
    if s.diff ~= nil then
      if s.activation == s.reference then
        diff = "ref"
      else
        diff = points(s.diff)
        if several and s.diff_ci95 then
          diff = diff .. fmt(" [%s, %s]", points(s.diff_ci95[1]), points(s.diff_ci95[2]))
        end
      end
    end
    local p = "–"
    if s.p_adjusted and s.activation ~= s.reference then
      p = s.p_adjusted < 0.001 and "&lt;0.001" or fmt("%.3f", s.p_adjusted)
    end
    w('<tr', i == 1 and ' class="best"' or "", ">", td(tostring(s.rank or i), s.rank or i),
      td(swatch(colors, i) .. esc(s.activation), nil, "l"),
      td(acc_text, acc),
      several and td(s.ci95 and fmt("[%s, %s]", pct(s.ci95[1]), pct(s.ci95[2])) or "–") or "",
      td(s.tied_with_best and '<span title="not distinguishable from the best">=</span>' or "",
        s.tied_with_best and 1 or 0, "tie"),
      td(diff, s.diff),
      several and td(p, s.p_adjusted) or "",
      td(num(s.train_loss, "%.4f"), s.train_loss),
      td(s.dead_fraction and (pct(s.dead_fraction, 1) .. "%") or "n/a", s.dead_fraction),
      td(num(s.grad_ratio, "%.3g"), s.grad_ratio),
      has_lr and td(num(s.lr, "%g"), s.lr) or "",
      td(num(s.seconds, "%.1f"), s.seconds), "</tr>")
  end
  w("</tbody></table></div>")

  -- how to read it
  local notes = {}
  if not has_acc then
    notes[#notes + 1] = "No test accuracy (not a classification): the rows are ranked by " ..
      "test loss and no paired test is made."
  elseif not several then
    notes[#notes + 1] = "One seed: no confidence interval and no test; the order may be " ..
      "chance. Run 3 seeds or more."
  else
    local mdds = {}
    for _, s in ipairs(summary) do if s.mdd then mdds[#mdds + 1] = s.mdd end end
    local mdd = L._median(mdds)
    notes[#notes + 1] = fmt("<strong>How to read this.</strong> Accuracy is the mean over " ..
      "%d seeds ± the half-width of its 95%% confidence interval. Each seed gives every " ..
      "activation the same initial weights and batches, so the differences are paired: " ..
      "diff is the mean per-seed difference to %s in percentage points with its 95%% CI, " ..
      "p its %s, Holm-adjusted over the comparisons (alpha %g). " ..
      "<span class=\"tie\">=</span> marks activations not shown different from the best at " ..
      "this n: a tie is an absence of evidence, not a proof that they are equal.",
      nseeds, esc(ref), esc(test_name), alpha)
    if mdd then
      notes[#notes + 1] = fmt("With these seeds a difference smaller than about %.2f " ..
        "points (the minimum detectable difference at 80%% power, median over the " ..
        "activations) would usually go unseen; more seeds shrink it.", 100 * mdd)
    end
    if test ~= "t" and 2 / 2 ^ nseeds >= alpha then
      notes[#notes + 1] = fmt("With %d seeds the smallest exact two-sided p of the %s is " ..
        "%.4g: it cannot separate anything at this n.", nseeds, esc(test_name), 2 / 2 ^ nseeds)
    end
  end
  w('<p class="read">', table.concat(notes, " "), "</p>")
  w('<p class="note">dead: share of hidden units that output exactly 0 on every test ' ..
    "example; grad first/last: weight-gradient norm of the first Linear over that of the " ..
    "last (geometric mean over seeds); seconds: training time per run.</p>\n</section>")

  -- the figure
  w("<section>\n<h2>Figure</h2>")
  local curves = has_curves(rows)
  local svg, why
  if has_acc or curves then
    svg, why = L._compare_svg(summary, rows, {seeds = nseeds, test_name = test_name,
      alpha = alpha})
  else
    why = "nothing to draw"
  end
  if svg then
    w('<figure>\n<div class="scroll">', inline_svg(svg, "cmp", "comparison figure"), "</div>")
    w("<figcaption>", curves and
      "Test accuracy with 95% CI error bars; training and test loss per epoch, mean " ..
      "over seeds with a band (95% CI, min–max under 3 seeds). Colours as in the tables." or
      "Test accuracy with 95% CI error bars. Colours as in the tables.",
      "</figcaption>\n</figure>")
  else
    w('<p class="note">No figure: ', esc(why or "unknown reason"), ".</p>")
  end
  if not curves then
    w('<p class="note">The training curves are not in the CSV these rows were read from ' ..
      "(it keeps one line per run): this report shows the tables and the accuracy only. " ..
      "lab.compare{report=} writes a report with the curves.</p>")
  end
  local hsvg = health_svg(summary, rows, colors)
  if hsvg then
    w('<figure>\n<div class="scroll">', inline_svg(hsvg, "health", "dead units and gradient ratio"),
      "</div>")
    w("<figcaption>Dead hidden units (share of units that output 0 on every test example) " ..
      "and the first/last weight-gradient ratio in log10 (0: the first layer gets as much " ..
      "gradient as the last; negative: less), one dot per seed, bars at the mean. Colours " ..
      "as in the tables.</figcaption>\n</figure>")
  end
  local fsvg, drawn, partial = activations_svg(acts)
  if fsvg then
    w('<figure>\n<div class="scroll">', inline_svg(fsvg, "act", "activation functions"),
      "</div>")
    w("<figcaption>The activations compared, f(x) and f'(x) on [-4, 4]",
      partial and (" (only " .. esc(table.concat(drawn, ", ")) ..
        ": the others are layers, not functions of one value; colours follow this " ..
        "figure's legend)") or " (colours as in the tables)", ".</figcaption>\n</figure>")
  end
  w("</section>")

  -- per seed
  local seeds = seed_list(rows)
  w("<section>\n<h2>Per seed</h2>")
  w('<p class="note">Test accuracy (%) of every run: a column is one seed, the same ' ..
    "initial weights and batches for every activation.</p>")
  local cell = {}
  for _, r in ipairs(rows) do
    cell[tostring(r.activation) .. "\0" .. tostring(r.seed)] = r
  end
  w('<div class="scroll"><table class="seeds"><thead><tr>', th("activation", "l"))
  for _, sd in ipairs(seeds) do w(th("seed " .. esc(sd))) end
  w(th("mean"), "</tr></thead>\n<tbody>")
  for i, s in ipairs(summary) do
    w("<tr>", td(swatch(colors, i) .. esc(s.activation), nil, "l"))
    for _, sd in ipairs(seeds) do
      local r = cell[s.activation .. "\0" .. tostring(sd)]
      local v = r and r.test_accuracy
      w(td(pct(v), v))
    end
    w(td(pct(s.mean or s.test_accuracy), s.mean or s.test_accuracy), "</tr>")
  end
  w("</tbody></table></div>")
  -- every number of every run, folded (open by default in print)
  w("<details>\n<summary>All numbers of every run</summary>")
  w('<div class="scroll"><table class="runs"><thead><tr>', th("activation", "l"), th("seed"),
    th("test accuracy (%)"), th("test loss"), th("train loss"), th("train accuracy (%)"),
    th("dead"), th("grad first"), th("grad last"), th("params"), th("seconds"))
  for _, k in ipairs(varying) do w(th(esc(k))) end
  w("</tr></thead>\n<tbody>")
  for _, r in ipairs(rows) do
    w("<tr>", td(esc(r.activation), nil, "l"), td(esc(r.seed), tonumber(r.seed)),
      td(pct(r.test_accuracy), r.test_accuracy), td(num(r.test_loss, "%.4f"), r.test_loss),
      td(num(r.train_loss, "%.4f"), r.train_loss), td(pct(r.train_accuracy), r.train_accuracy),
      td(r.dead_fraction and (pct(r.dead_fraction, 1) .. "%") or "n/a", r.dead_fraction),
      td(num(r.grad_norm_first, "%.3g"), r.grad_norm_first),
      td(num(r.grad_norm_last, "%.3g"), r.grad_norm_last),
      td(num(r.params, "%d"), r.params), td(num(r.seconds, "%.2f"), r.seconds))
    for _, k in ipairs(varying) do
      local v = r[k]
      w(td(v == nil and "–" or esc(type(v) == "number" and fmt("%g", v) or v),
        type(v) == "number" and v or nil))
    end
    w("</tr>")
  end
  w("</tbody></table></div>\n</details>\n</section>")

  -- setup and machine
  w("<section>\n<h2>Setup and machine</h2>\n<dl class=\"setup\">")
  local function item(k, v) w("<dt>", esc(k), "</dt><dd>", esc(v), "</dd>") end
  for _, e in ipairs(setup) do
    if e[1] ~= "actrun_version" and e[1] ~= "simd" and e[1] ~= "threads" then
      item(e[1], type(e[2]) == "number" and fmt("%g", e[2]) or tostring(e[2]))
    end
  end
  if several and has_acc then item("test", fmt("%s, Holm, alpha %g", test_name, alpha)) end
  item("actrun", version)
  item("SIMD level", setup_of.simd or info.simd or "unknown")
  item("threads", setup_of.threads or info.threads or actrun.get_num_threads())
  item("CPU", (cpu_name() or "unknown") .. (ctx.source and " (where this report was built)"
    or ""))
  -- a page built from a CSV later may be built elsewhere: the BLAS then says nothing
  if info.blas ~= nil and not ctx.source then item("BLAS", tostring(info.blas)) end
  if ctx.command then item("command", ctx.command) end
  if ctx.source then item("rows from", ctx.source) end
  w("</dl>\n</section>")
  w("<footer>Written by actrun ", esc(actrun.version), " on ",
    esc(os.date("!%Y-%m-%d %H:%M UTC")), ". This page is self-contained: it loads nothing " ..
    "from the network or from other files.</footer>")
  w("</main>\n<script>\n", SCRIPT, "</script>\n</body>\n</html>\n")
  return table.concat(out, "\n")
end
report._html = html

-- The command line of the running script, when there is one (arg[0] and what follows).
local function command_line()
  local a = rawget(_G, "arg")
  if type(a) ~= "table" or a[0] == nil then return nil end
  local parts = {}
  for i = 0, #a do
    local s = tostring(a[i])
    if s:find("[^%w%-_./=,:+]") then s = "'" .. s:gsub("'", "'\\''") .. "'" end
    parts[#parts + 1] = s
  end
  return table.concat(parts, " ")
end

-- Atomic, like lab.compare's CSV: a crash never leaves half a page under the final name.
local function write_file(fname, path, text)
  return util.write_atomic(fname, path, text)
end

-- The summary lab.compare would have made of these rows (default test and alpha).
local function summary_of(rows, test, alpha)
  local L = lab()
  local summary = L._summarize(rows)
  L._add_statistics(summary, nil, test or "t", alpha or 0.05)
  return summary
end

-- For lab.compare{report=}: rows and summary it just made, ctx as for html.
function report.write(fname, path, rows, summary, ctx)
  ctx.command = ctx.command or command_line()
  return write_file(fname, path, html(rows, summary, ctx))
end

local REPORT_OPTS = {file = true, title = true, summary = true, source = true}

-- lab.report(rows [, {file=, title=, summary=}]) -> path (with file) or the HTML text.
function report.report(rows, opts)
  local fname = "actrun.lab.report"
  if type(rows) ~= "table" or actrun.is_tensor(rows) then
    error(fmt("%s: argument #1 (rows) expected a list of lab.compare rows, got %s", fname,
      typename(rows)), 2)
  end
  if #rows == 0 then
    error(fmt("%s: argument #1 (rows) expected a non-empty list of lab.compare rows, got " ..
      "an empty table", fname), 2)
  end
  for i, r in ipairs(rows) do
    if type(r) ~= "table" or type(r.activation) ~= "string" then
      error(fmt("%s: argument #1 (rows) entry %d expected a row {activation=, seed=, ...}, " ..
        "got %s", fname, i, type(r) == "table" and "a table without an activation name" or
        typename(r)), 2)
    end
  end
  opts = check_opts(fname, opts, 2, REPORT_OPTS, 3)
  for _, k in ipairs{"file", "title", "source"} do
    if opts[k] ~= nil and (type(opts[k]) ~= "string" or opts[k] == "") then
      error(fmt("%s: argument #2 (options) field %s expected a non-empty string, got %s", fname,
        k, typename(opts[k])), 2)
    end
  end
  local summary = opts.summary
  if summary ~= nil then
    if type(summary) ~= "table" or #summary == 0 or type(summary[1]) ~= "table" or
        type(summary[1].activation) ~= "string" then
      error(fmt("%s: argument #2 (options) field summary expected lab.compare's summary (its " ..
        "second result), got %s", fname, typename(summary)), 2)
    end
  else
    summary = summary_of(rows)
  end
  local text = html(rows, summary, {title = opts.title, source = opts.source,
    command = opts.source == nil and command_line() or nil})
  if opts.file then return write_file(fname, opts.file, text) end
  return text
end

---------------------------------------------------------------------------------------
-- Reading lab.compare's CSV

-- One CSV record from line onwards (quoted fields may hold commas, quotes and newlines):
-- the fields and whether the record ended inside quotes (then the caller appends the
-- next line).
local function split_csv(text)
  local fields, i, n = {}, 1, #text
  while true do
    if text:sub(i, i) == '"' then
      local buf, j = {}, i + 1
      while true do
        local q = text:find('"', j, true)
        if not q then return nil end -- open quote: the record goes on
        buf[#buf + 1] = text:sub(j, q - 1)
        if text:sub(q + 1, q + 1) == '"' then
          buf[#buf + 1] = '"'
          j = q + 2
        else
          i = q + 1
          break
        end
      end
      fields[#fields + 1] = table.concat(buf)
    else
      local c = text:find(",", i, true) or n + 1
      fields[#fields + 1] = text:sub(i, c - 1)
      i = c
    end
    if i > n then return fields end
    i = i + 1 -- past the comma
    if i > n then
      fields[#fields + 1] = ""
      return fields
    end
  end
end

local function csv_cell(k, v)
  if k == "activation" then return v end
  if v == "" then return nil end
  if v == "nan" then return 0 / 0 end
  return tonumber(v) or v
end

-- The rows of a CSV lab.compare wrote (numbers as numbers; empty cells nil), or nil and
-- why.
function report.read_csv(path)
  local f, err = io.open(path, "r")
  if not f then return nil, tostring(err) end
  local header, rows, pending, lineno = nil, {}, nil, 0
  for line in f:lines() do
    lineno = lineno + 1
    line = line:gsub("\r$", "")
    local text = pending and (pending .. "\n" .. line) or line
    local fields = split_csv(text)
    if not fields then
      pending = text
    else
      pending = nil
      if not header then
        header = fields
      elseif text ~= "" then
        local r = {}
        for c, k in ipairs(header) do r[k] = csv_cell(k, fields[c] or "") end
        rows[#rows + 1] = r
      end
    end
  end
  f:close()
  if pending then return nil, fmt("%s: a quoted field is not closed", path) end
  if not header then return nil, fmt("%s: empty file", path) end
  local have = {}
  for _, k in ipairs(header) do have[k] = true end
  for _, k in ipairs{"activation", "seed", "test_accuracy"} do
    if not have[k] then
      return nil, fmt("%s: no %s column (not a CSV written by lab.compare)", path, k)
    end
  end
  if #rows == 0 then return nil, fmt("%s: no runs in the file", path) end
  return rows
end

return report
