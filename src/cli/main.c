/* actrun: the command-line host. Behaves like the standalone `lua` (Lua manual §7):
 * options, the `arg` table, scripts from files or stdin, and a REPL; adds built-in
 * commands (`actrun COMMAND [args]`) implemented in Lua by the module
 * "actrun.commands". Uses only <actrun.h> and Lua's API. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "actrun.h"
#include "cli.h"

/* The state the SIGINT handler interrupts: a signal handler cannot take arguments. */
static lua_State *running_L;

static const char options_text[] =
    "usage: " CLI_PROGNAME
    " [options] [script.lua [args]]\n"
    "       " CLI_PROGNAME
    " COMMAND [args]\n"
    "Options:\n"
    "  -e CODE   run the Lua code CODE\n"
    "  -l MOD    require module MOD into a global named after its last part\n"
    "            (-l actrun.nn sets nn); -l NAME=MOD chooses the global's name\n"
    "  -i        enter the interactive mode (REPL) after running the script\n"
    "  -v        show version information (also --version)\n"
    "  -E        ignore the environment variables LUA_INIT, LUA_PATH and LUA_CPATH\n"
    "  -W        turn warnings on\n"
    "  --allow-binary  also run precompiled (binary) chunks, which Lua does not verify:\n"
    "            trusted code only (by default only source text is loaded)\n"
    "  -h        show this help (also --help)\n"
    "  --        stop handling options\n"
    "  -         run the standard input as the script and stop handling options\n"
    "Without a script: the REPL when the standard input is a terminal, otherwise the\n"
    "standard input is run as the script. The script sees its arguments in `arg`.\n"
    "LUA_INIT_5_4 (or LUA_INIT) runs before everything else: Lua code, or @FILE.\n";

void cli_print_version(lua_State *L, FILE *f) {
  fprintf(f, "%s %s (%s)", CLI_PROGNAME, ACTRUN_VERSION, LUA_RELEASE);
  /* the kernel level from actrun.build_info(), when the module is there */
  int top = lua_gettop(L);
  if (luaL_loadstring(L, "local i = actrun.build_info() "
                         "return i.simd, table.concat(i.simd_available, ' ')") == LUA_OK &&
      lua_pcall(L, 0, 2, 0) == LUA_OK && lua_isstring(L, -2))
    fprintf(f, ", SIMD %s (this CPU: %s)", lua_tostring(L, -2), lua_tostring(L, -1));
  lua_settop(L, top);
  fputc('\n', f);
  fflush(f);
}

/* ---------- running code ---------- */

/* Count hook set from the signal handler: raises the error at the next safe point. */
static void interrupt_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* lua_sethook is the one Lua call meant to be made from a signal handler. A second
 * Ctrl-C, before the hook runs, gets the default action and ends the process. */
static void on_sigint(int sig) {
  signal(sig, SIG_DFL);
  lua_sethook(running_L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* The message handler: a string (or number) error gets a traceback; another value is
 * shown through its __tostring, alone, when it has one, else named by its type (with a
 * traceback), as the standalone lua reports them. */
static int message_handler(lua_State *L) {
  if (lua_tostring(L, 1) == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    lua_replace(L, 1);
  }
  return actrun_traceback(L);
}

int cli_docall(lua_State *L, int nargs, int nresults) {
  int base = lua_gettop(L) - nargs; /* the function's index */
  lua_pushcfunction(L, message_handler);
  lua_insert(L, base);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  running_L = L;
  sigaction(SIGINT, &sa, &old);
  int status = lua_pcall(L, nargs, nresults, base);
  sigaction(SIGINT, &old, NULL);        /* e.g. back to the REPL's line-clearing handler */
  if (lua_gethook(L) == interrupt_hook) /* a Ctrl-C that came too late to matter */
    lua_sethook(L, NULL, 0, 0);
  lua_remove(L, base);
  return status;
}

int cli_report(lua_State *L, int status, const char *prefix) {
  if (status != LUA_OK) {
    int top = lua_gettop(L) - 1; /* without the error object */
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, -1));
    if (prefix)
      fprintf(stderr, "%s: %s\n", prefix, msg);
    else
      fprintf(stderr, "%s\n", msg);
    fflush(stderr);
    lua_settop(L, top);
  }
  return status;
}

static int run_chunk(lua_State *L, int status) {
  if (status == LUA_OK) status = cli_docall(L, 0, 0);
  return cli_report(L, status, CLI_PROGNAME);
}

/* -l [NAME=]MOD: NAME = require(MOD); NAME defaults to MOD's last dotted part. */
static int load_library(lua_State *L, const char *spec) {
  const char *eq = strchr(spec, '=');
  const char *mod = eq ? eq + 1 : spec;
  const char *dot = strrchr(mod, '.');
  const char *glob = eq ? spec : (dot ? dot + 1 : mod);
  size_t globlen = eq ? (size_t)(eq - spec) : strlen(glob);
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  int status = cli_docall(L, 1, 1);
  if (status == LUA_OK) { /* the name is a substring: set _G[name] through the API */
    lua_pushglobaltable(L);
    lua_pushlstring(L, glob, globlen);
    lua_rotate(L, -3, -1); /* value, G, name -> G, name, value */
    lua_settable(L, -3);
    lua_pop(L, 1);
  }
  return cli_report(L, status, CLI_PROGNAME);
}

/* Pushes the script's `...`: arg[1] .. arg[#arg] of the global `arg` as it is now (the
 * code of LUA_INIT, -e and -l may have changed it), as lua does. */
static int push_script_args(lua_State *L) {
  if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
  int n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to the script");
  for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -n - 1);
  return n;
}

/* Runs the script argv[script] with the arguments that follow it as `...`. */
static int run_script(lua_State *L, char **argv, int script) {
  const char *fname = argv[script];
  /* "-" is stdin, unless it came after "--" (then it is a file named "-") */
  if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0) fname = NULL;
  int status = actrun_load_file(L, fname);
  if (status == LUA_OK) {
    int n = push_script_args(L);
    status = cli_docall(L, n, 0);
  }
  return cli_report(L, status, CLI_PROGNAME);
}

/* ---------- built-in commands ---------- */

/* A command name: a plain word (no '.' so no ".lua", no '/') naming no existing file. */
static int is_command(const char *s) {
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return 0;
  for (const char *p = s; *p; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-'))
      return 0;
  }
  struct stat st;
  return stat(s, &st) != 0;
}

/* Pushes require "actrun.commands"; reports and returns non-OK on failure. */
static int push_commands(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "actrun.commands");
  int status = cli_docall(L, 1, 1);
  if (status == LUA_OK && !lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_pushliteral(L, "module 'actrun.commands' did not return a table");
    status = LUA_ERRRUN;
  }
  return status;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Pushes "a, b, c": the sorted command names of the table at index t. */
static void push_command_names(lua_State *L, int t) {
  t = lua_absindex(L, t);
  const char *names[256];
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_istable(L, -1) && n < 256)
      names[n++] = lua_tostring(L, -2); /* anchored by the table */
    lua_pop(L, 1);
  }
  qsort(names, (size_t)n, sizeof names[0], cmp_str);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 0; i < n; i++) {
    if (i) luaL_addstring(&b, ", ");
    luaL_addstring(&b, names[i]);
  }
  luaL_pushresult(&b);
}

/* The host's context handed to every command: what only the binary knows. */
static void push_command_context(lua_State *L) {
  lua_createtable(L, 0, 3);
  lua_pushliteral(L, CLI_PROGNAME);
  lua_setfield(L, -2, "program");
  lua_pushliteral(L, LUA_RELEASE);
  lua_setfield(L, -2, "lua");
  lua_pushstring(L, options_text);
  lua_setfield(L, -2, "usage");
}

/* Runs commands[name].run(args, context); args are argv[first..]. Returns the exit
 * status: the command's integer result, 1 for false or an error, else 0. */
static int run_command(lua_State *L, const char *name, char **argv, int first) {
  if (cli_report(L, push_commands(L), CLI_PROGNAME) != LUA_OK) return 1;
  int cmds = lua_gettop(L);
  lua_getfield(L, cmds, name);
  if (!lua_istable(L, -1)) {
    push_command_names(L, cmds);
    fprintf(stderr,
            "%s: '%s' is neither a script file nor a command\n"
            "commands: %s (see '%s help')\n",
            CLI_PROGNAME, name, lua_tostring(L, -1), CLI_PROGNAME);
    lua_settop(L, cmds - 1);
    return 1;
  }
  lua_getfield(L, -1, "run");
  lua_newtable(L);
  for (int i = first; argv[i]; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - first + 1);
  }
  push_command_context(L);
  int status = cli_docall(L, 2, 1);
  int code = 0;
  if (status != LUA_OK)
    code = 1;
  else if (lua_isinteger(L, -1))
    code = (int)lua_tointeger(L, -1);
  else if (lua_isboolean(L, -1) && !lua_toboolean(L, -1))
    code = 1;
  cli_report(L, status, CLI_PROGNAME);
  lua_settop(L, cmds - 1);
  return code;
}

/* ---------- options ---------- */

enum {
  HAS_E = 1,
  HAS_I = 2,
  HAS_V = 4,
  HAS_W = 8,
  HAS_H = 16,
  NO_ENV = 32,
  BAD = 64,
  ALLOW_BINARY = 128
};

/* Scans the options. *script gets the index of the script (or command) argument,
 * 0 when there is none; *bad the offending argument when BAD is returned. */
static int collect_args(char **argv, int *script, const char **bad) {
  int flags = 0;
  int i;
  *script = 0;
  for (i = 1; argv[i]; i++) {
    const char *a = argv[i];
    if (a[0] != '-') { /* the script */
      *script = i;
      return flags;
    }
    if (a[1] == '\0') { /* "-": stdin */
      *script = i;
      return flags;
    }
    if (strcmp(a, "--") == 0) {
      if (argv[i + 1]) *script = i + 1;
      return flags;
    }
    if (strcmp(a, "--version") == 0) { /* the long spellings people try first */
      flags |= HAS_V;
      continue;
    }
    if (strcmp(a, "--help") == 0) {
      flags |= HAS_H;
      continue;
    }
    if (strcmp(a, "--allow-binary") == 0) { /* read by main, which makes the interpreter */
      flags |= ALLOW_BINARY;
      continue;
    }
    switch (a[1]) {
      case 'i':
        flags |= HAS_I;
        break;
      case 'v':
        flags |= HAS_V;
        break;
      case 'W':
        flags |= HAS_W;
        break;
      case 'h':
        flags |= HAS_H;
        break;
      case 'E':
        flags |= NO_ENV;
        break;
      case 'e':
      case 'l': /* both take an argument, attached (-eCODE) or not */
        if (a[1] == 'e') flags |= HAS_E;
        if (a[2] == '\0') {
          if (argv[i + 1] == NULL) {
            *bad = a;
            return flags | BAD;
          }
          i++;
        }
        continue;
      default:
        *bad = a;
        return flags | BAD;
    }
    if (a[2] != '\0') { /* -i, -v, -W, -h, -E take nothing: "-vx" is wrong */
      *bad = a;
      return flags | BAD;
    }
  }
  return flags;
}

/* Runs -e and -l in their order on the command line. */
static int run_options(lua_State *L, char **argv, int script) {
  int end = script ? script : 1 << 30;
  for (int i = 1; argv[i] && i < end; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || (a[1] != 'e' && a[1] != 'l')) continue;
    const char *val = a[2] ? a + 2 : argv[++i];
    int status = a[1] == 'e' ? run_chunk(L, actrun_load_buffer(L, val, strlen(val), "=(command line)"))
                             : load_library(L, val);
    if (status != LUA_OK) return 0;
  }
  return 1;
}

/* arg[0] is the script; options get negative indices, script arguments positive ones,
 * as with `lua`. Without a script arg[0] is the program name. */
static void create_arg_table(lua_State *L, int argc, char **argv, int script) {
  lua_createtable(L, argc - script, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

/* -E: the package library has read LUA_PATH and LUA_CPATH already (the interpreter is
 * made before the options are read), so the paths go back to Lua's defaults; the
 * registry's LUA_NOENV tells later libraries the same. */
static void ignore_environment(lua_State *L) {
  lua_pushboolean(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  if (lua_getglobal(L, "package") == LUA_TTABLE) {
    lua_pushstring(L, LUA_PATH_DEFAULT);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, LUA_CPATH_DEFAULT);
    lua_setfield(L, -2, "cpath");
  }
  lua_pop(L, 1);
}

/* LUA_INIT_5_4, else LUA_INIT: Lua code, or "@FILE" to run a file. Returns the status. */
static int run_init(lua_State *L) {
  const char *name = "=LUA_INIT_5_4";
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=LUA_INIT";
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return run_chunk(L, actrun_load_file(L, init + 1));
  return run_chunk(L, actrun_load_buffer(L, init, strlen(init), name));
}

/* The binary's convenience globals: help(x) and apropos(s), from "actrun.help". Best
 * effort. */
static void set_help_global(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "actrun.help");
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    lua_getfield(L, -1, "apropos");
    lua_setglobal(L, "apropos");
    lua_setglobal(L, "help");
  } else {
    lua_pop(L, 1);
  }
}

static void print_usage(FILE *f, const char *bad) {
  if (bad) {
    if (bad[1] == 'e' || bad[1] == 'l')
      fprintf(f, "%s: '%s' needs argument\n", CLI_PROGNAME, bad);
    else
      fprintf(f, "%s: unrecognized option '%s'\n", CLI_PROGNAME, bad);
  }
  fputs(options_text, f);
  fflush(f);
}

struct main_args {
  int argc;
  char **argv;
  int status; /* the process's exit status */
};

/* Everything that touches Lua, run protected so even a memory error is reported. */
static int protected_main(lua_State *L) {
  struct main_args *m = lua_touserdata(L, 1);
  char **argv = m->argv;
  int script;
  const char *bad = NULL;
  int flags = collect_args(argv, &script, &bad);
  m->status = 1;
  if (flags & BAD) {
    print_usage(stderr, bad);
    return 0;
  }
  luaL_checkversion(L);
  if (flags & HAS_H) { /* the help command lists the commands too */
    static char *none[] = {NULL};
    lua_settop(L, 0);
    int have_help = push_commands(L) == LUA_OK && lua_getfield(L, -1, "help") == LUA_TTABLE;
    if (have_help) {
      lua_settop(L, 0);
      m->status = run_command(L, "help", none, 0);
    } else {
      lua_settop(L, 0);
      print_usage(stdout, NULL);
      m->status = 0;
    }
    return 0;
  }
  if (flags & HAS_V) cli_print_version(L, stdout);
  if (flags & HAS_W) lua_warning(L, "@on", 0);
  if (flags & NO_ENV) ignore_environment(L);
  create_arg_table(L, m->argc, argv, script);
  set_help_global(L);
  if (!(flags & NO_ENV) && run_init(L) != LUA_OK) return 0;
  if (!run_options(L, argv, script)) return 0;
  if (script) {
    int after_dashes = strcmp(argv[script - 1], "--") == 0;
    if (!after_dashes && is_command(argv[script])) {
      m->status = run_command(L, argv[script], argv, script + 1);
      return 0;
    }
    if (run_script(L, argv, script) != LUA_OK) return 0;
  }
  if (flags & HAS_I) {
    if (!(flags & HAS_V)) cli_print_version(L, stdout);
    cli_repl(L);
  } else if (script == 0 && !(flags & (HAS_E | HAS_V))) {
    if (isatty(STDIN_FILENO)) {
      cli_print_version(L, stdout);
      cli_repl(L);
    } else if (run_chunk(L, actrun_load_file(L, NULL)) != LUA_OK) {
      return 0;
    }
  }
  m->status = 0;
  return 0;
}

/* Under mpirun with several ranks, a rank that fails must end the job: leaving through
 * exit() would run MPI_Finalize, which waits for ranks that may be waiting for this one in
 * a collective. actrun.dist.abort (MPI_Abort) ends them all with this status. */
static int abort_ranks(lua_State *L) {
  int rc = (int)lua_tointeger(L, 1);
  if (lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE) != LUA_TTABLE) return 0;
  if (lua_getfield(L, -1, "actrun.dist_c") != LUA_TTABLE) return 0;
  int d = lua_gettop(L);
  lua_getfield(L, d, "size");
  lua_call(L, 0, 1);
  if (lua_tointeger(L, -1) <= 1) return 0;
  lua_getfield(L, d, "abort");
  lua_pushinteger(L, rc);
  lua_call(L, 1, 0);
  return 0;
}

static void abort_other_ranks(lua_State *L, int rc) {
  lua_settop(L, 0);
  lua_pushcfunction(L, abort_ranks);
  lua_pushinteger(L, rc);
  lua_pcall(L, 1, 0, 0);
  lua_settop(L, 0);
}

int main(int argc, char **argv) {
  static char *no_args[] = {CLI_PROGNAME, NULL};
  if (argc < 1 || argv[0] == NULL) { /* exec with an empty argv: behave as plain actrun */
    argc = 1;
    argv = no_args;
  }
  /* the loading policy is the interpreter's, so --allow-binary is read before it exists */
  int script;
  const char *bad = NULL;
  int flags = collect_args(argv, &script, &bad);
  actrun *A = actrun_new_ex(flags & ALLOW_BINARY ? ACTRUN_ALLOW_BINARY : 0);
  if (A == NULL) {
    fprintf(stderr, "%s: cannot create the interpreter (out of memory?)\n", CLI_PROGNAME);
    return 1;
  }
  lua_State *L = actrun_lua(A);
  struct main_args m = {argc, argv, 1};
  lua_pushcfunction(L, protected_main);
  lua_pushlightuserdata(L, &m);
  int status = lua_pcall(L, 1, 0, 0);
  cli_report(L, status, CLI_PROGNAME);
  int rc = status == LUA_OK ? m.status : 1;
  if (rc != 0) abort_other_ranks(L, rc);
  actrun_free(A);
  return rc;
}
