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
    "--no-cost leaves the cost columns out.",
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
return commands
