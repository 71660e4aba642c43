-- Shared helpers of the scripts in scripts/ (and bench/): command-line options, aligned
-- tables, medians, plots (line, hist, bar). Loaded with dofile, relative to the script, so a
-- script runs from any working directory:
--
--   local here = (arg and arg[0] or ""):match("^(.*)/") or "."
--   local cli = dofile(here .. "/lib/cli.lua")
--   local opt, given = cli.parse(arg, {
--     usage = "actrun scripts/NAME.lua [options]",
--     about = "One line on what the script shows.",
--     options = {
--       {"quick", "flag", help = "a small, fast run"},
--       {"epochs", "int", 100, help = "training epochs", min = 1},
--       {"lr", "number", 0.5, help = "learning rate", min = 0},
--       {"names", "string", "relu,tanh", help = "comma-separated activations"},
--     }})
--
-- Options are "--name value" or "--name=value"; flags take no value. Kinds: "flag",
-- "int", "number", "string". Optional fields: min (numbers), choices (strings),
-- arg (the metavariable in the usage text). -h/--help prints the usage and exits 0; a bad
-- option prints the problem and the usage on stderr and exits with status 2.
local cli = {}

local function metavar(o)
  if o.kind == "flag" then return "" end
  return " " .. (o.arg or (o.kind == "int" and "N" or o.kind == "number" and "X" or "S"))
end

-- Normalised option list: {name=, kind=, default=, help=, ...}.
local function options(spec)
  local list, byname = {}, {}
  for _, o in ipairs(spec.options or {}) do
    local n = {name = o.name or o[1], kind = o.kind or o[2], default = o.default}
    if n.default == nil then n.default = o[3] end
    for k, v in pairs(o) do
      if type(k) == "string" and n[k] == nil then n[k] = v end
    end
    assert(({flag = 1, int = 1, number = 1, string = 1})[n.kind],
      "cli: option " .. tostring(n.name) .. " has an unknown kind " .. tostring(n.kind))
    list[#list + 1] = n
    byname[n.name] = n
  end
  return list, byname
end

-- The usage text of a spec.
function cli.usage(spec)
  local list = options(spec)
  local lines = {"usage: " .. (spec.usage or "actrun SCRIPT [options]")}
  if spec.about then lines[#lines + 1] = spec.about end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "options:"
  local w = #"-h, --help"
  for _, o in ipairs(list) do w = math.max(w, #("--" .. o.name .. metavar(o))) end
  for _, o in ipairs(list) do
    local help = o.help or ""
    if o.default ~= nil and o.kind ~= "flag" then
      help = help .. (help ~= "" and " " or "") .. "(default " .. tostring(o.default) .. ")"
    end
    if o.choices then help = help .. " [" .. table.concat(o.choices, "|") .. "]" end
    lines[#lines + 1] = ("  %-" .. w .. "s  %s"):format("--" .. o.name .. metavar(o), help)
  end
  lines[#lines + 1] = ("  %-" .. w .. "s  %s"):format("-h, --help", "show this help and exit")
  return table.concat(lines, "\n") .. "\n"
end

local function convert(o, text)
  if o.kind == "string" then
    if o.choices then
      for _, c in ipairs(o.choices) do
        if c == text then return text end
      end
      return nil, ("--%s: expected one of %s, got '%s'"):format(o.name,
        table.concat(o.choices, ", "), text)
    end
    return text
  end
  local v = tonumber(text)
  if o.kind == "int" then v = v and math.tointeger(v) end
  if v == nil or v ~= v then
    return nil, ("--%s: expected %s, got '%s'"):format(o.name,
      o.kind == "int" and "an integer" or "a number", text)
  end
  if o.min and v < o.min then
    return nil, ("--%s: expected a value >= %s, got %s"):format(o.name, tostring(o.min), text)
  end
  return v
end

-- Parses args (a Lua `arg` table; only its positive indices are read). Returns opt (every
-- option's value or default; flags false unless given) and given (name -> true for the
-- options on the command line), or nil and a message. help=true in the message's place
-- when -h/--help was asked for.
function cli.try_parse(args, spec)
  local list, byname = options(spec)
  local opt, given = {}, {}
  for _, o in ipairs(list) do
    if o.kind == "flag" then opt[o.name] = false else opt[o.name] = o.default end
  end
  local i = 1
  while args and args[i] ~= nil do
    local a = tostring(args[i])
    if a == "-h" or a == "--help" then return nil, "help", true end
    local name, value = a:match("^%-%-([%w_%-]+)=(.*)$")
    name = name or a:match("^%-%-([%w_%-]+)$")
    if not name then return nil, "unexpected argument '" .. a .. "'" end
    local o = byname[name] or byname[name:gsub("%-", "_")]
    if not o then return nil, "unknown option --" .. name end
    if o.kind == "flag" then
      if value ~= nil then return nil, "--" .. o.name .. " takes no value" end
      opt[o.name] = true
    else
      if value == nil then
        i = i + 1
        value = args[i]
        if value == nil then return nil, "--" .. o.name .. " needs a value" end
        value = tostring(value)
      end
      local v, err = convert(o, value)
      if v == nil then return nil, err end
      opt[o.name] = v
    end
    given[o.name] = true
    i = i + 1
  end
  return opt, given
end

-- try_parse, printing the usage and exiting on -h/--help (status 0) or an error (2).
function cli.parse(args, spec)
  local opt, given, help = cli.try_parse(args, spec)
  if opt then return opt, given end
  if help then
    io.stdout:write(cli.usage(spec))
    os.exit(0, true)
  end
  cli.fail(spec, given, args)
end

-- Reports a bad command line (msg), prints the usage on stderr and exits with status 2;
-- for checks across options that parse cannot make.
function cli.fail(spec, msg, args)
  args = args or rawget(_G, "arg")
  local name = spec.name or (args and args[0] and tostring(args[0]):match("([^/]*)$")) or "actrun"
  io.stderr:write(name, ": ", msg, "\n\n", cli.usage(spec))
  os.exit(2, true)
end

-- ---------- tables ----------

-- An aligned text table. cols: list of {title, key or function(row), fmt (a format
-- string or a function(value) -> string; default "%s"), align ("left"/"right"; default:
-- left for strings, right otherwise)}; a missing value is an empty cell. With
-- options.markdown the table is a Markdown (GFM) table, still aligned. Returns the lines
-- joined with "\n".
function cli.format_table(cols, rows, options)
  local md = options and options.markdown
  local cells, width, left = {}, {}, {}
  for c, col in ipairs(cols) do
    width[c] = #col[1]
    left[c] = col.align == "left"
  end
  for r, row in ipairs(rows) do
    cells[r] = {}
    for c, col in ipairs(cols) do
      local get = col[2] or c
      local v
      if type(get) == "function" then v = get(row) else v = row[get] end
      local f = col[3] or col.fmt or "%s"
      local s
      if v == nil then
        s = ""
      elseif type(f) == "function" then
        s = f(v)
      else
        s = f:format(v)
      end
      if col.align == nil and type(v) == "string" then left[c] = true end
      cells[r][c] = s
      width[c] = math.max(width[c], utf8.len(s) or #s)
    end
  end
  local function line(texts)
    local parts = {}
    for c, s in ipairs(texts) do
      local pad = (" "):rep(width[c] - (utf8.len(s) or #s))
      parts[c] = left[c] and (s .. pad) or (pad .. s)
    end
    if md then return "| " .. table.concat(parts, " | ") .. " |" end
    return (table.concat(parts, "  "):gsub("%s+$", ""))
  end
  local out, head, rule = {}, {}, {}
  for c, col in ipairs(cols) do
    head[c] = col[1]
    if md then width[c] = math.max(width[c], 3) end
    rule[c] = ("-"):rep(width[c])
    if md and not left[c] then rule[c] = rule[c]:sub(2) .. ":" end
  end
  out[1] = line(head)
  out[2] = line(rule)
  for r = 1, #rows do out[#out + 1] = line(cells[r]) end
  return table.concat(out, "\n")
end

function cli.print_table(cols, rows)
  print(cli.format_table(cols, rows))
  io.stdout:flush()
end

-- ---------- numbers ----------

function cli.median(list)
  local s = {}
  for i, v in ipairs(list) do s[i] = v end
  assert(#s > 0, "cli.median: empty list")
  table.sort(s)
  local n = #s
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return 0.5 * (s[n // 2] + s[n // 2 + 1])
end

function cli.geomean(list)
  local acc, n = 0, 0
  for _, v in ipairs(list) do
    if v > 0 and v < math.huge then acc, n = acc + math.log(v), n + 1 end
  end
  return n > 0 and math.exp(acc / n) or nil
end

-- Seconds per call of fn: one warm-up call, then `runs` samples of `calls` calls each;
-- returns the median over the samples and the list of samples. When fn returns a number,
-- that number is taken as the call's time (for a function that times only part of its
-- work), otherwise the wall-clock time of the calls is used.
-- ---------- verdicts ----------
-- Every claim script ends with its verdict, decided by its own statistics:
--   verdict: SUPPORTED | NOT SUPPORTED | MIXED
--   <one line of reasons with the numbers>
-- Returns the verdict string (tests read both lines).
local VERDICTS = {["SUPPORTED"] = true, ["NOT SUPPORTED"] = true, ["MIXED"] = true}
function cli.verdict(status, reason, ...)
  if not VERDICTS[status] then
    error(("cli.verdict: status must be SUPPORTED, NOT SUPPORTED or MIXED, got %s"):format(
      tostring(status)), 2)
  end
  if type(reason) ~= "string" or reason == "" then
    error("cli.verdict: a reason with the numbers is required", 2)
  end
  if select("#", ...) > 0 then reason = reason:format(...) end
  print(("verdict: %s"):format(status))
  print(reason)
  return status
end

function cli.time_per_call(fn, calls, runs)
  local A = rawget(_G, "actrun") or require "actrun"
  local clock = A.clock
  fn()
  local samples = {}
  for r = 1, runs do
    local own, timed, t0 = 0, false, clock()
    for _ = 1, calls do
      local dt = fn()
      if type(dt) == "number" then own, timed = own + dt, true end
    end
    local wall = clock() - t0
    samples[r] = (timed and own or wall) / calls
  end
  return cli.median(samples), samples
end

-- ---------- benchmarks ----------
-- The statement under test compiled once into a loop over locals: returns a chunk taking
-- (the operands named in params, n, clock) and returning the seconds n runs took.
function cli.timed_loop(params, body)
  local src = "local " .. params .. ", n, clock = ...\n" ..
      "local t0 = clock()\n" ..
      "for _ = 1, n do " .. body .. " end\n" ..
      "return clock() - t0\n"
  return assert(load(src, "=(" .. body .. ")", "t"))
end

-- Median seconds per call of run (a timed_loop chunk) on the operands in args (a
-- table.pack, so a nil operand keeps its place): one warm-up call, then the calls per
-- sample set from one timed call, `reps` samples.
function cli.per_call(run, args, sample, reps)
  local A = rawget(_G, "actrun") or require "actrun"
  local clock, n = A.clock, args.n or #args
  local function go(calls)
    local a = table.move(args, 1, n, 1, {})
    a[n + 1], a[n + 2] = calls, clock
    return run(table.unpack(a, 1, n + 2))
  end
  go(1)
  local one = math.max(go(1), 1e-9)
  local calls = math.max(1, math.ceil(sample / one))
  return (cli.time_per_call(function() return go(calls) / calls end, 1, reps))
end

-- "KEY VALUE UNIT" lines (as every benchmark prints them; # lines are comments) into
-- key -> value, the median where a key repeats (outputs of several runs concatenated).
function cli.parse_keys(text)
  local into = {}
  for line in text:gmatch("[^\n]+") do
    local k, v = line:match("^([%w%._%-]+)%s+([%-%d%.eE+]+)")
    if k and not line:match("^#") then
      into[k] = into[k] or {}
      table.insert(into[k], tonumber(v))
    end
  end
  local med = {}
  for k, l in pairs(into) do med[k] = cli.median(l) end
  return med
end

-- The whole text of a file named by an option; a usage error naming it when unreadable.
function cli.read_file(spec, path, what)
  local f, err = io.open(path, "r")
  if not f then cli.fail(spec, what .. ": cannot read " .. tostring(err)) end
  local s = f:read("a")
  f:close()
  return s
end

-- ---------- plots ----------
-- The one way scripts draw: these call actrun.plot when it is part of this build and
-- otherwise say so and return false; they return true when the plot was drawn, and print
-- "plot: wrote FILE" when a file was written.

local function plot_module(fn)
  local ok, plot = pcall(require, "actrun.plot")
  if not ok or type(plot) ~= "table" or type(plot[fn]) ~= "function" then
    print("plot: actrun.plot is not available in this build")
    return nil
  end
  return plot
end

-- plot.line(spec): spec = {series={{x=, y=, label=}...}, title=, xlabel=, ylabel=, ylog=, file=}.
function cli.plot_line(spec)
  local plot = plot_module("line")
  if not plot then return false end
  plot.line(spec)
  if spec.file then print("plot: wrote " .. spec.file) end
  return true
end

-- plot.hist(data, opts): data a tensor or an array; opts = {bins=, range=, title=, xlabel=, file=}.
function cli.plot_hist(data, opts)
  local plot = plot_module("hist")
  if not plot then return false end
  plot.hist(data, opts)
  if opts and opts.file then print("plot: wrote " .. opts.file) end
  return true
end

-- plot.bar(spec): spec = {labels=, values=, title=, log=, file=}.
function cli.plot_bar(spec)
  local plot = plot_module("bar")
  if not plot then return false end
  plot.bar(spec)
  if spec.file then print("plot: wrote " .. spec.file) end
  return true
end

-- plot.grid(spec): spec = {plots={panel...}, columns=, title=, file=}, a panel being
-- plot.line's option table (or {type="hist"|"bar", ...}).
function cli.plot_grid(spec)
  local plot = plot_module("grid")
  if not plot then return false end
  plot.grid(spec)
  if spec.file then print("plot: wrote " .. spec.file) end
  return true
end

-- FILE with "_suffix" before its extension, for scripts that write several plots:
-- suffixed("out/g.svg", "i") -> "out/g_i.svg".
function cli.suffixed(file, suffix)
  local base, ext = file:match("^(.*)(%.[^./]*)$")
  return (base or file) .. "_" .. suffix .. (ext or "")
end

return cli
