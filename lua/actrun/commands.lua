-- actrun.commands: the built-in commands of the actrun binary, run as
-- `actrun NAME [args]` when NAME is a plain word that names no file.
--
-- Each entry is a table:
--   help         one line for the command list
--   usage        e.g. "actrun props [NAME...]"
--   description  optional, more lines shown by `actrun help NAME`
--   run(args, ctx)
--       args: the command-line arguments after NAME (a list of strings)
--       ctx:  what the host knows: program (its name), lua (the Lua release),
--             usage (the host's option summary); fields may be missing elsewhere
--       Returns an exit status (an integer; false means 1; nothing means 0). An error
--       is reported with its traceback and exit status 1.
-- Keep this file light (it is loaded for every command): require the modules a
-- command needs inside its run.

local commands = {}

local function program(ctx)
  return ctx and ctx.program or "actrun"
end

-- A library message rephrased for the command line: its hints name Lua calls
-- ("see act.list()"), which mean nothing at a shell prompt.
local function for_command_line(msg, prog)
  return (tostring(msg):gsub("%(see act%.list%(%)%)",
    ("(see '%s props' or '%s help act')"):format(prog, prog)))
end

local function names()
  local list = {}
  for name, cmd in pairs(commands) do
    if type(cmd) == "table" then list[#list + 1] = name end
  end
  table.sort(list)
  return list
end

commands.version = {
  help = "show the versions of actrun and Lua",
  usage = "actrun version",
  run = function(args, ctx)
    local actrun = require "actrun"
    print(("%s %s (%s)"):format(program(ctx), actrun.version, ctx and ctx.lua or _VERSION))
  end,
}

-- A command's bad usage: the message and the usage line on stderr, exit status 2.
local function usage_failure(prog, name, msg)
  io.stderr:write(("%s %s: %s\nusage: %s\n"):format(prog, name, msg, commands[name].usage))
  return 2
end

commands.props = {
  help = "print the measured properties of activations (act.table)",
  usage = "actrun props [NAME[,NAME...] ...] [--quick] [--no-cost]",
  description = table.concat({
    "Without names: every activation. The properties are computed on the spot (see",
    "act.properties); --quick times the cost on 2^14 elements instead of 2^20,",
    "--no-cost leaves the cost columns out. 'eoc sw2' is the edge of chaos: the weight",
    "variance sigma_w2 at which a deep random network without bias is critical (chi1 = 1,",
    "act.edge_of_chaos), '-' where there is none.",
  }, "\n"),
  run = function(args, ctx)
    local prog = program(ctx)
    local names, opts = {}, {}
    for _, a in ipairs(args) do
      if a == "--quick" then
        opts.quick = true
      elseif a == "--no-cost" then
        opts.cost = false
      elseif a:sub(1, 1) == "-" then
        io.stderr:write(("%s props: unknown option '%s' (usage: %s)\n"):format(prog, a,
          commands.props.usage))
        return 2
      else
        for n in a:gmatch("[^,%s]+") do names[#names + 1] = n end
      end
    end
    local act = require("actrun").act
    for _, n in ipairs(names) do
      if not pcall(act.info, n) then
        io.stderr:write(("%s props: unknown activation '%s' (known: %s)\n"):format(prog, n,
          table.concat(act.list(), ", ")))
        return 1
      end
    end
    act.table(#names > 0 and names or nil, opts)
    return 0
  end,
}

commands.phase = {
  help = "draw an activation's phase diagram (ordered, chaotic, the edge of chaos)",
  usage = "actrun phase NAME [-o FILE.svg]",
  description = table.concat({
    "The (sigma_w2, sigma_b2) plane of a deep random network with activation NAME, from",
    "mean-field theory (lab.phase_diagram): ordered where signals and gradients die out,",
    "chaotic where they blow up, and the critical line between. With -o, an SVG with the",
    "critical line and depth-scale contours; without, a character map.",
  }, "\n"),
  run = function(args, ctx)
    local prog = program(ctx)
    local function usage_error(msg) return usage_failure(prog, "phase", msg) end
    local name, file
    local i = 1
    while i <= #args do
      local a = args[i]
      if a == "-o" then
        file = args[i + 1]
        if not file then return usage_error("-o needs a file name") end
        i = i + 1
      elseif a:sub(1, 1) == "-" or name then
        return usage_error("unexpected argument '" .. a .. "'")
      else
        name = a
      end
      i = i + 1
    end
    if not name then return usage_error("no activation given") end
    local A = require "actrun"
    if not pcall(A.act.info, name) then
      io.stderr:write(("%s phase: unknown activation '%s' (see '%s props' or '%s help act')\n")
        :format(prog, name, prog, prog))
      return 1
    end
    A.lab.phase_diagram{activation = name, file = file}
    if file then print("wrote " .. file) end
    return 0
  end,
}

commands.help = {
  help = "list the commands, or explain a command or any documented name",
  usage = "actrun help [COMMAND | NAME | -k WORD]",
  description = table.concat({
    "NAME is anything help() knows in the REPL, e.g. actrun.zeros, Tensor:sum or a short",
    "name such as gelu; -k WORD lists the names that contain WORD or whose documentation",
    "mentions it (apropos in the REPL).",
  }, "\n"),
  run = function(args, ctx)
    local prog = program(ctx)
    local name = args[1]
    if name == nil then
      if ctx and ctx.usage then io.write(ctx.usage) end
      print("Commands:")
      for _, n in ipairs(names()) do print(("  %-10s %s"):format(n, commands[n].help or "")) end
      print(("'%s help COMMAND' explains a command, '%s help NAME' documents a function"):format(
        prog, prog))
      print("(e.g. actrun.zeros); in the REPL, help(x) or ?x.")
      return 0
    end
    local help = require "actrun.help"
    if name == "-k" or name == "--apropos" then
      if not args[2] or args[2] == "" then
        return usage_failure(prog, "help", name .. " expects a word")
      end
      local text, err = help.apropos_text(args[2])
      if not text then
        io.stderr:write(("%s help: %s\n"):format(prog, err))
        return 1
      end
      print(text)
      return 0
    end
    local cmd = commands[name]
    if type(cmd) == "table" then
      print("usage: " .. (cmd.usage or (prog .. " " .. name)))
      if cmd.help then print(cmd.help) end
      if cmd.description then print(cmd.description) end
      return 0
    end
    local text, err = help.text(name)
    if text then
      print(text)
      return 0
    end
    -- the first line is the miss, the others the names help found instead
    local first, rest = err:match("^([^\n]*)\n?(.*)$")
    io.stderr:write(("%s: %s (and no command of that name; commands: %s)\n"):format(
      prog, first, table.concat(names(), ", ")))
    if rest ~= "" then
      io.stderr:write((rest:gsub("apropos%(\"([^\"]*)\"%) lists them", prog .. " help -k %1 lists them")), "\n")
    end
    return 1
  end,
}

commands.plot = {
  help = "draw activation functions and their derivatives (terminal or SVG)",
  usage = "actrun plot NAME[,NAME...] [--from A] [--to B] [--file OUT.svg] [--no-derivative]"
    .. " [--ascii] [--width N] [--height N]",
  description = table.concat({
    "Draws f (and f') of the named activations, e.g. 'actrun plot relu,tanh,gelu'.",
    "  --from A, --to B   the x range (default -5 to 5)",
    "  --file OUT.svg     write an SVG instead of drawing in the terminal",
    "  --no-derivative    only f; --derivative-only: only f'; --both: f and f' in one panel",
    "  --ascii            plain ASCII instead of braille dots",
    "  --width N, --height N  size (characters, or pixels for --file)",
  }, "\n"),
  run = function(args, ctx)
    local prog = program(ctx)
    local function usage_error(msg) return usage_failure(prog, "plot", msg) end
    local opts, names = {}, {}
    local numeric = {["--from"] = "from", ["--to"] = "to", ["--width"] = "width",
      ["--height"] = "height"}
    local i = 1
    while i <= #args do
      local a = args[i]
      local key, inline = a:match("^(%-%-[%w%-]+)=(.*)$")
      key = key or a
      if numeric[key] then
        local v = inline or args[i + 1]
        if not inline then i = i + 1 end
        local n = tonumber(v or "")
        if not n then return usage_error(("%s expects a number, got %s"):format(key, v or "nothing")) end
        opts[numeric[key]] = n
      elseif key == "--file" or key == "-o" then
        local v = inline or args[i + 1]
        if not inline then i = i + 1 end
        if not v or v == "" then return usage_error("--file expects a file name") end
        opts.file = v
      elseif key == "--no-derivative" then opts.derivative = false
      elseif key == "--derivative-only" then opts.derivative = "only"
      elseif key == "--both" then opts.derivative = "both"
      elseif key == "--ascii" then opts.ascii = true
      elseif a:sub(1, 1) == "-" and tonumber(a) == nil then
        return usage_error(("unknown option '%s'"):format(a))
      else
        for n in a:gmatch("[^,%s]+") do names[#names + 1] = n end
      end
      i = i + 1
    end
    if #names == 0 then return usage_error("name at least one activation (see 'actrun help plot')") end
    opts.names = names
    local plot = require "actrun.plot"
    local ok, res = pcall(plot.activations, opts)
    if not ok then
      io.stderr:write(("%s plot: %s\n"):format(prog,
        for_command_line((tostring(res):gsub("^[^\n]-:%d+: ", "")), prog)))
      return 1
    end
    if opts.file then print("wrote " .. res) end
    return 0
  end,
}
commands.report = {
  help = "write the HTML report of a comparison from the CSV lab.compare wrote",
  usage = "actrun report CSV [-o FILE] [--title TEXT]",
  description = table.concat({
    "Reads the CSV of lab.compare{csv=} (one line per run) and writes one self-contained",
    "HTML page (lab.report): the ranked table with 95% CIs, paired differences to the best,",
    "Holm-adjusted p and ties, the per-seed results and the accuracy figure. The CSV has no",
    "training curves: the page says so (lab.compare{report=} writes them too).",
    "  -o FILE, --output FILE  where the page goes (default: report.html beside the CSV)",
    "  --title TEXT            the page's title",
  }, "\n"),
  run = function(args, ctx)
    local prog = program(ctx)
    local function usage_error(msg) return usage_failure(prog, "report", msg) end
    local csv, out, title
    local i = 1
    while i <= #args do
      local a = args[i]
      local key, inline = a:match("^(%-%-[%w%-]+)=(.*)$")
      key = key or a
      if key == "-o" or key == "--output" or key == "--title" then
        local v = inline or args[i + 1]
        if not inline then i = i + 1 end
        if not v or v == "" then return usage_error(key .. " expects a value") end
        if key == "--title" then title = v else out = v end
      elseif a:sub(1, 1) == "-" and a ~= "-" then
        return usage_error(("unknown option '%s'"):format(a))
      elseif csv then
        return usage_error(("one CSV file only (got '%s' and '%s')"):format(csv, a))
      else
        csv = a
      end
      i = i + 1
    end
    if not csv then return usage_error("name the CSV file lab.compare wrote") end
    -- the page goes beside the CSV unless told otherwise, like compare.svg does
    out = out or ((csv:match("^(.*)/[^/]*$") or ".") .. "/report.html")
    local report = require "actrun.report"
    local rows, err = report.read_csv(csv)
    if not rows then
      io.stderr:write(("%s report: cannot read %s\n"):format(prog, err))
      return 1
    end
    local ok, res = pcall(require("actrun").lab.report, rows,
      {file = out, title = title, source = csv})
    if not ok then
      io.stderr:write(("%s report: %s\n"):format(prog, (tostring(res):gsub("^[^\n]-:%d+: ", ""))))
      return 1
    end
    print("wrote " .. res)
    return 0
  end,
}
-- A list option "a,b,c" -> {"a", "b", "c"}
local function split_list(s)
  local list = {}
  for w in s:gmatch("[^,%s]+") do list[#list + 1] = w end
  return list
end

commands.search = {
  help = "search activation functions b(u1(x), u2(x)) (lab.search) and rank them",
  usage = "actrun search [--unary a,b,...] [--binary a,b,...] [--strategy exhaustive|evolution]"
    .. " [--budget N] [--seeds N] [--epochs N] [--data fashion-mnist|spirals] [--limit N]"
    .. " [--store FILE] [--shard I/N] [--merge FILE] [--top K] [--report FILE] [--quick]",
  description = table.concat({
    "Trains an MLP (one hidden layer, --width units) with every candidate activation and",
    "prints the candidates ranked by mean test accuracy over the seeds, with 95% CIs, and",
    "the top K against relu and swish (paired over seeds, Holm-adjusted p).",
    "  --unary, --binary  the primitives (default: every one; 'actrun help actrun.lab.search')",
    "  --strategy S       exhaustive (one core unit, default) or evolution (two core units)",
    "  --budget N         candidates evolution trains; --seed N its random seed (default 1)",
    "  --seeds N          seeds 1..N per candidate (default 2); --epochs N (default 1)",
    "  --top-seeds N      retrain the top K with seeds 1..N before comparing them",
    "  --data D           fashion-mnist (default; spirals when it is not installed) or spirals",
    "  --limit N          first N training images (and N/6 test images)",
    "  --width N, --batch N, --lr X  the model and its training (64, 64, 1e-3)",
    "  --store FILE       append every finished candidate to FILE; a rerun skips them",
    "  --shard I/N        train the I-th of N parts of the candidates into FILE.shard-I-of-N",
    "  --merge FILE       no training: the table of FILE's shards (and FILE)",
    "  --top K            rows of the table and candidates compared (default 10)",
    "  --report FILE      an HTML report of the top K and the baselines",
    "  --quick            a small space on spirals: x,neg,abs,square,tanh,sigmoid,relu with",
    "                     add,mul,max, width 32, 2 seeds, 20 epochs (about 10 s)",
    "Progress (done/total, best so far, ETA) is shown on a terminal only.",
  }, "\n"),
  run = function(args, ctx)
    local prog = program(ctx)
    local function usage_error(msg) return usage_failure(prog, "search", msg) end
    local o = {seeds = 2, epochs = 1, width = 64, batch = 64, top = 10, seed = 1,
      data = "fashion-mnist"}
    local ints = {["--budget"] = "budget", ["--seeds"] = "seeds", ["--epochs"] = "epochs",
      ["--limit"] = "limit", ["--width"] = "width", ["--batch"] = "batch", ["--top"] = "top",
      ["--seed"] = "seed", ["--top-seeds"] = "top_seeds", ["--population"] = "population"}
    local strings = {["--unary"] = "unary", ["--binary"] = "binary", ["--strategy"] = "strategy",
      ["--data"] = "data", ["--store"] = "store", ["--shard"] = "shard", ["--merge"] = "merge",
      ["--report"] = "report", ["--lr"] = "lr"}
    local given = {}
    local i = 1
    while i <= #args do
      local a = args[i]
      local key, inline = a:match("^(%-%-[%w%-]+)=(.*)$")
      key = key or a
      if ints[key] or strings[key] then
        local v = inline or args[i + 1]
        if not inline then i = i + 1 end
        if not v or v == "" then return usage_error(key .. " expects a value") end
        if ints[key] then
          local n = math.tointeger(tonumber(v))
          if not n or n < (key == "--top" and 0 or 1) then
            return usage_error(("%s expects a whole number >= %d, got '%s'"):format(key,
              key == "--top" and 0 or 1, v))
          end
          o[ints[key]] = n
        else
          o[strings[key]] = v
        end
        given[ints[key] or strings[key]] = true
      elseif key == "--quick" then
        o.quick = true
      else
        return usage_error(("unknown option '%s'"):format(a))
      end
      i = i + 1
    end
    local actrun = require "actrun"
    local lab = actrun.lab
    local function failure(err)
      io.stderr:write(("%s search: %s\n"):format(prog, (tostring(err):gsub("^[^\n]-:%d+: ", ""))))
      return 1
    end
    local order = {"relu", "swish"}
    if o.merge then
      local ok, res, info = pcall(lab.search_merge, o.merge)
      if not ok then return failure(res) end
      print(("%d candidates from %d file(s)%s"):format(#res, #info.files,
        info.complete and "" or (" (incomplete: %d of %d candidates)"):format(#res,
          info.candidates or 0)))
      print(lab.search_table(res, {top = o.top}))
      return 0
    end
    if o.lr then
      o.lr = tonumber(o.lr)
      if not o.lr or o.lr <= 0 then return usage_error("--lr expects a number > 0") end
    end
    local shard
    if o.shard then
      local si, sn = o.shard:match("^(%d+)/(%d+)$")
      si, sn = math.tointeger(tonumber(si)), math.tointeger(tonumber(sn))
      if not si or si < 1 or si > sn then
        return usage_error("--shard expects I/N with 1 <= I <= N, got '" .. o.shard .. "'")
      end
      if not o.store then return usage_error("--shard needs --store FILE") end
      shard = {si, sn}
    end
    if o.data ~= "fashion-mnist" and o.data ~= "spirals" then
      return usage_error("--data expects fashion-mnist or spirals, got '" .. o.data .. "'")
    end
    if o.quick then
      if not given.data then o.data = "spirals" end
      o.unary = o.unary or "x,neg,abs,square,tanh,sigmoid,relu"
      o.binary = o.binary or "add,mul,max"
      if not given.epochs then o.epochs = 20 end
      if not given.width then o.width = 32 end
    end
    local data = actrun.data
    local Xtr, ytr, Xte, yte, task
    if o.data == "fashion-mnist" then
      local ok
      ok, Xtr, ytr = pcall(data.fashion_mnist, {split = "train", limit = o.limit})
      if ok then
        Xte, yte = data.fashion_mnist{split = "test",
          limit = o.limit and math.max(1, o.limit // 6)}
        task = ("Fashion-MNIST (%d train, %d test images)"):format(Xtr:size(1), Xte:size(1))
      else
        io.stderr:write("Fashion-MNIST not found: searching on spirals instead\n")
        o.data = "spirals"
      end
    end
    if o.data == "spirals" then
      local n = o.limit and math.min(o.limit, 1500) or 1500
      Xtr, ytr = data.spirals{n = n, classes = 3, noise = 0.1, seed = 1}
      Xte, yte = data.spirals{n = 600, classes = 3, noise = 0.1, seed = 2}
      task = ("spirals (%d train, 600 test points)"):format(n)
      o.lr = o.lr or 1e-2
    end
    local nin, nclass = Xtr:size(2), math.floor(ytr:max():item())
    local spec = {data = {train = {X = Xtr, y = ytr}, test = {X = Xte, y = yte}},
      model = function(a) return actrun.nn.mlp{nin, o.width, nclass, activation = a} end,
      unary = o.unary and split_list(o.unary), binary = o.binary and split_list(o.binary),
      strategy = o.strategy, budget = o.budget, population = o.population, seed = o.seed,
      seeds = o.seeds, epochs = o.epochs, batch = o.batch, lr = o.lr or 1e-3, store = o.store,
      shard = shard, top = o.top, top_seeds = o.top_seeds, baselines = order,
      provenance = {task = task, width = o.width}}
    if o.strategy == "evolution" and not o.budget then spec.budget = 50 end
    local root = actrun.dist.rank() == 0
    if root then
      print(("search: %s, MLP %d-%d-%d, %d epoch(s), seeds 1..%d, strategy %s"):format(task,
        nin, o.width, nclass, o.epochs, o.seeds, o.strategy or "exhaustive"))
    end
    local ok, res, info = pcall(lab.search, spec)
    if not ok then return failure(res) end
    if not root then return 0 end
    print(("%d candidates (%d dropped as degenerate, %d merged as equal); %d trainings run " ..
      "now (baselines included, the rest from the store), %s")
      :format(info.candidates, info.dropped, info.merged, info.trained,
        require("actrun.progress").clock_text(info.seconds)))
    print(lab.search_table(res, {top = o.top, order = order, baselines = info.baselines}))
    if o.report and #res > 0 then
      local rows = {}
      local k = math.min(o.top, #res)
      for r = 1, k do
        local c = res[r].top or res[r]
        for s, v in ipairs(c.scores) do
          -- the derived name (an activation: the page draws f and f'; it reads as the
          -- expression's tokens)
          rows[#rows + 1] = {activation = res[r].name, seed = s, test_accuracy = v}
        end
      end
      for _, b in ipairs(order) do
        local c = (info.top_baselines or info.baselines or {})[b]
        for s, v in ipairs(c and c.scores or {}) do
          rows[#rows + 1] = {activation = b, seed = s, test_accuracy = v}
        end
      end
      local rok, path = pcall(lab.report, rows, {file = o.report,
        title = "Activation search: the top " .. k .. " candidates"})
      if not rok then return failure(path) end
      print("wrote " .. path)
    end
    return 0
  end,
}
return commands
