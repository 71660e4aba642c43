#!/bin/sh
# Tests of the actrun command line (not the REPL on a terminal: see repl_pty.c).
# Usage: sh cli_test.sh PATH_TO_ACTRUN
set -u
ACTRUN=${1:?usage: cli_test.sh PATH_TO_ACTRUN}
case $ACTRUN in /*) ;; *) ACTRUN=$(pwd)/$ACTRUN ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/actrun-cli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
HOME=$T # the REPL of -i must not touch the real history
export HOME
unset ACTRUN_HISTORY

failures=0
n=0

fail() {
  failures=$((failures + 1))
  echo "FAIL: $1"
  echo "  status: $status"
  echo "  stdout: $(cat "$T/out")"
  echo "  stderr: $(cat "$T/err")"
}

# run ARGS...: runs actrun with stdin from /dev/null unless $IN names a file.
run() {
  n=$((n + 1))
  "$ACTRUN" "$@" <"${IN:-/dev/null}" >"$T/out" 2>"$T/err"
  status=$?
}

# expect NAME STATUS [out|err PATTERN]...: checks the last run (fixed strings).
expect() {
  name=$1
  want=$2
  shift 2
  if [ "$status" -ne "$want" ]; then
    fail "$name: status $status, wanted $want"
    return
  fi
  while [ $# -ge 2 ]; do
    if ! grep -qF -e "$2" "$T/$1"; then
      fail "$name: $1 lacks '$2'"
      return
    fi
    shift 2
  done
}

# --- options
run -v
expect "-v" 0 out "actrun 0.1.0 (Lua 5.4"

run -h
expect "-h" 0 out "usage: actrun" out "-e CODE" out "-l MOD" out "-i " out "Commands:" \
  out "version"

run -e 'print(1 + 1, actrun.version)'
expect "-e print" 0 out "2	0.1.0"

run -e 'x = 20' -e 'print(x + 1)'
expect "-e twice, in order" 0 out "21"

run -e'print("attached")'
expect "-eCODE" 0 out "attached"

run -e 'error("from -e")'
expect "-e error" 1 err "from -e" err "traceback"

run -x
expect "unknown option" 1 err "unrecognized option '-x'" err "usage: actrun"

run -vx
expect "option with trailing letters" 1 err "usage: actrun"

run -e
expect "-e without argument" 1 err "'-e' needs argument" err "usage: actrun"
run -l
expect "-l without argument" 1 err "'-l' needs argument"

run --version
expect "--version" 0 out "actrun 0.1.0 (Lua 5.4"
run --help
expect "--help" 0 out "usage: actrun"

# --- as the standalone lua: LUA_INIT_5_4 / LUA_INIT, -E, `...` from arg, error objects
printf 'print("init file", arg and #arg)\n' >"$T/init.lua"
LUA_INIT='print("init code")' run -e 'print("after")'
expect "LUA_INIT code" 0 out "init code"
if [ "$(head -n 1 "$T/out")" != "init code" ]; then fail "LUA_INIT runs first"; fi
LUA_INIT_5_4='print("init 5.4")' LUA_INIT='print("plain init")' run -e 'print(1)'
expect "LUA_INIT_5_4 wins" 0 out "init 5.4"
if grep -qF "plain init" "$T/out"; then fail "LUA_INIT ran beside LUA_INIT_5_4"; fi
LUA_INIT="@$T/init.lua" run -e 'print(1)'
expect "LUA_INIT=@file" 0 out "init file"
LUA_INIT='error("init fails")' run -e 'print("not reached")'
expect "LUA_INIT error" 1 err "LUA_INIT:1: init fails"
if grep -qF "not reached" "$T/out"; then fail "the code ran after LUA_INIT failed"; fi
LUA_INIT="@$T/no-such-init.lua" run -e 'print(1)'
expect "LUA_INIT=@missing" 1 err "cannot open"
LUA_INIT='print("init code")' run -E -e 'print("after")'
expect "-E ignores LUA_INIT" 0 out "after"
if grep -qF "init code" "$T/out"; then fail "-E: LUA_INIT ran"; fi
LUA_PATH="$T/nowhere/?.lua" run -E -e 'print(package.path:find("nowhere", 1, true) == nil)'
expect "-E ignores LUA_PATH" 0 out "true"
run -Ex
expect "-E with trailing letters" 1 err "unrecognized option '-Ex'"

printf 'print("dots", select("#", ...), ...)\n' >"$T/dots.lua"
run -e 'arg = {"x", "y"}' "$T/dots.lua" a b c
expect "... comes from arg" 0 out "dots	2	x	y"
run -e 'arg = 42' "$T/dots.lua" a
expect "arg not a table" 1 err "actrun: 'arg' is not a table"
LUA_INIT='arg = nil' run "$T/dots.lua" a
expect "arg removed by LUA_INIT" 1 err "'arg' is not a table"

run -e 'error(setmetatable({}, {__tostring = function() return "shown alone" end}))'
expect "error object __tostring" 1 err "actrun: shown alone"
if grep -qF "traceback" "$T/err"; then fail "error object with __tostring: lua shows no traceback"; fi
run -e 'error(nil)'
expect "nil error object" 1 err "(error object is a nil value)"
run -e 'error(12)'
expect "number error object" 1 err "actrun: 12"

# --- scripts and arg
cat >"$T/args.lua" <<'EOF'
print("n", #arg, arg[1], arg[2], select("#", ...), ...)
print("arg0", arg[0])
print("neg", arg[-1], arg[-2] ~= nil)
EOF
run -e 'x = 1' "$T/args.lua" a b
expect "script with arguments" 0 out "n	2	a	b	2	a	b" out "arg0	$T/args.lua" \
  out "neg	x = 1	true"

run -- "$T/args.lua" -v
expect "-- stops options" 0 out "n	1	-v	nil	1	-v"

cat >"$T/err.lua" <<'EOF'
local function inner()
  local t = nil
  return t.field -- line 3
end
inner()
EOF
run "$T/err.lua"
expect "runtime error" 1 err "err.lua:3:" err "stack traceback" err "in local 'inner'"

cat >"$T/syntax.lua" <<'EOF'
local x = 1
local y = = 2
EOF
run "$T/syntax.lua"
expect "syntax error" 1 err "syntax.lua:2:" err "near '='"

run "$T/missing.lua"
expect "missing script" 1 err "cannot open"

printf 'error(setmetatable({}, {__tostring = function() return "custom object" end}))\n' \
  >"$T/errobj.lua"
run "$T/errobj.lua"
expect "error object with __tostring" 1 err "custom object"

printf 'error({})\n' >"$T/errtable.lua"
run "$T/errtable.lua"
expect "error object without __tostring" 1 err "error object is a table value"

printf 'os.exit(3)\n' >"$T/exit.lua"
run "$T/exit.lua"
expect "os.exit status" 3

printf 'print(help ~= nil, actrun ~= nil, require("actrun") == actrun)\n' >"$T/globals.lua"
run "$T/globals.lua"
expect "globals of the binary" 0 out "true	true	true"

# --- stdin
printf 'print("from stdin", ...)\n' >"$T/stdin.lua"
IN="$T/stdin.lua" run - p q
expect "- reads stdin" 0 out "from stdin	p	q"

IN="$T/stdin.lua" run
expect "piped stdin runs as a script" 0 out "from stdin"

IN="$T/err.lua" run
expect "piped stdin error" 1 err "stdin:3:" err "traceback"

printf 'x = 5\nx * 3\nfor i = 1, 2 do\n  x = x + i\nend\nx\n1 + 41;\n' >"$T/repl.lua"
IN="$T/repl.lua" run -i
expect "-i on piped stdin" 0 out "15" out "8"
if grep -qF "42" "$T/out"; then fail "-i: trailing ; did not suppress the value"; fi

printf '?help\nhelp(print)\n' >"$T/help.txt"
IN="$T/help.txt" run -i
expect "-i help" 0 out "Shows the documentation" out "no documentation for print"

# --- -l
mkdir "$T/lib"
printf 'return {answer = 42}\n' >"$T/lib/mymod.lua"
mkdir "$T/lib/pkg"
printf 'return {name = "sub"}\n' >"$T/lib/pkg/sub.lua"
LUA_PATH="$T/lib/?.lua;;" run -l mymod -e 'print(mymod.answer)'
expect "-l MOD" 0 out "42"
LUA_PATH="$T/lib/?.lua;;" run -l m=mymod -e 'print(m.answer, mymod)'
expect "-l NAME=MOD" 0 out "42	nil"
LUA_PATH="$T/lib/?.lua;;" run -l pkg.sub -e 'print(sub.name)'
expect "-l dotted MOD" 0 out "sub"
run -l no_such_module_xyz
expect "-l missing module" 1 err "module 'no_such_module_xyz' not found"

# --- built-in commands
run version
expect "actrun version" 0 out "actrun 0.1.0 (Lua 5.4"

run help
expect "actrun help" 0 out "Commands:" out "version" out "help"

run help version
expect "actrun help COMMAND" 0 out "usage: actrun version"

run help actrun.zeros
expect "actrun help NAME" 0 out "actrun.zeros(d1, d2, ...)"

run help no_such_name
expect "actrun help unknown" 1 err "no documentation for no_such_name"

run frobnicate
expect "unknown command" 1 err "'frobnicate' is neither a script file nor a command" \
  err "help, " err "version"

# props: the measured property table (act.table)
run props relu,tanh --no-cost
expect "actrun props NAMES" 0 out "name  nonlin  diff  kinks" out "relu  " \
  out "zero/no" out "vanish/vanish"
if [ "$(grep -c . "$T/out")" -ne 4 ]; then fail "actrun props NAMES: header, rule and 2 rows"; fi
run props selu step --quick
expect "actrun props, cost and SELU" 0 out "fwd ns" out "yes (0, 1)" out "jump 0"
run props relu,nope
expect "actrun props unknown name" 1 err "unknown activation 'nope'"
run props --frob
expect "actrun props bad option" 2 err "unknown option '--frob'"
run help props
expect "actrun help props" 0 out "usage: actrun props"

# a file of that name wins over a command
(cd "$T" && printf 'print("the file")\n' >version && "$ACTRUN" version >out 2>err)
status=$?
expect "file shadows command" 0 out "the file"

# --- plot: activation curves in the terminal or as an SVG file
COLUMNS=70 LINES=18 run plot relu,tanh --from -3 --to 3
expect "plot terminal" 0 out "f(x)" out "f'(x)" out "relu" out "tanh" out "-2 "
if grep -q "$(printf '\033')" "$T/out"; then fail "plot: colour although stdout is not a terminal"; fi
run plot gelu sigmoid --no-derivative --ascii --width 50 --height 12
expect "plot ascii" 0 out "gelu" out "sigmoid"
if LC_ALL=C grep -q "$(printf '[\200-\377]')" "$T/out"; then fail "plot --ascii: non-ASCII output"; fi
run plot relu,elu --file "$T/acts.svg"
expect "plot --file" 0 out "wrote $T/acts.svg"
if ! grep -q "</svg>" "$T/acts.svg" 2>/dev/null; then fail "plot --file: no SVG written"; fi
run plot no_such_act
expect "plot unknown activation" 1 err "unknown activation 'no_such_act'"
run plot relu --file "$T/x.png"
expect "plot png" 1 err "PNG is not supported"
run plot relu --bogus
expect "plot unknown option" 2 err "unknown option '--bogus'" err "usage: actrun plot"
run plot
expect "plot without names" 2 err "name at least one activation"
run help plot
expect "help plot" 0 out "usage: actrun plot"

# phase: the mean-field phase diagram (lab.phase_diagram)
run phase tanh
expect "phase map" 0 out "phase diagram of tanh" out "*" out "sigma_w2 across"
run phase relu -o "$T/phase.svg"
expect "phase -o" 0 out "wrote $T/phase.svg"
if ! grep -q "critical (chi1 = 1)" "$T/phase.svg"; then fail "phase -o: no critical line in the SVG"; fi
run phase
expect "phase without a name" 2 err "no activation given" err "usage: actrun phase"
run phase nope
expect "phase unknown name" 1 err "unknown activation 'nope'" err "actrun props"
run phase tanh -o
expect "phase -o without a file" 2 err "-o needs a file name"

# --- precompiled (binary) chunks: refused unless --allow-binary
run -e "io.open('$T/bc.luac', 'wb'):write(string.dump(load('print(\"bytecode ran\")')))"
expect "write a binary chunk" 0
cp "$T/bc.luac" "$T/bcmod.lua"
refused="refusing a precompiled (binary) chunk"
run "$T/bc.luac"
expect "binary script" 1 err "actrun: $refused in '$T/bc.luac'" err "--allow-binary"
if grep -q "bytecode ran" "$T/out"; then fail "binary script: it ran"; fi
run --allow-binary "$T/bc.luac"
expect "binary script, --allow-binary" 0 out "bytecode ran"
IN=$T/bc.luac run -
expect "binary stdin" 1 err "actrun: $refused in 'stdin'"
run -e "print(load(string.dump(function() end)))"
expect "load(string.dump(f))" 0 out "nil	load: $refused" out "only for trusted code"
run -e "print(load(string.dump(function() end), 'dumped', 'b'))"
expect "load(..., 'b')" 0 out "load: $refused in 'dumped'"
run -e "print(load('return 1', 'src', 'b'))"
expect "load of text with mode 'b'" 0 out "attempt to load a text chunk (mode is 'b')"
run -e "print(loadfile('$T/bc.luac', 'bt'))"
expect "loadfile" 0 out "nil	loadfile: $refused in '$T/bc.luac'"
run -e "dofile('$T/bc.luac')"
expect "dofile" 1 err "dofile: $refused in '$T/bc.luac'"
run -e "package.path = '$T/?.lua' require 'bcmod'"
expect "require" 1 err "error loading module 'bcmod'" err "$refused"
LUA_INIT=@$T/bc.luac run -e "print 'after init'"
expect "LUA_INIT=@binary" 1 err "$refused"
run --allow-binary -e "package.path = '$T/?.lua' require 'bcmod' dofile('$T/bc.luac') load(string.dump(function() print 'dumped ran' end))()"
expect "--allow-binary: require, dofile, load" 0 out "bytecode ran" out "dumped ran"
printf 'return 6, 7\n' >"$T/text.lua"
run -e "local a, b = dofile('$T/text.lua') print(load('return 6 * 7')(), a * b, loadfile('$T/text.lua', 'b'))"
expect "text chunks through the wrappers" 0 out "42	42	nil	attempt to load a text chunk (mode is 'b')"
run -h
expect "-h names --allow-binary" 0 out "--allow-binary"

echo "cli_test: $n runs, $failures failures"
[ "$failures" -eq 0 ]
