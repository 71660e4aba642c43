/* Text chunks only, by default, in the interpreters actrun creates.
 *
 * Lua runs precompiled chunks (string.dump, luac) without verifying them: a file that
 * starts with ESC "Lua", or a dumped function with one byte changed, can crash the process
 * or worse. Scripts are text, so actrun_new's interpreters (and with them the actrun
 * command) refuse binary chunks everywhere code is loaded: actrun_run_file/string, the
 * command's script, -e, stdin and REPL (through actrun_load_file/buffer), and inside
 * Lua `load`, `loadfile`, `dofile` and `require`'s searcher for Lua files (the standard
 * ones are replaced by wrappers that load in text mode whatever mode a script asks for).
 * actrun_new_ex(ACTRUN_ALLOW_BINARY), or `actrun --allow-binary`, leaves Lua's functions
 * as they are. A state that merely did `require "actrun"` keeps its own functions: its
 * loading policy is its host's. */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "actrun.h"
#include "lua/binding.h"

/* Registry field: true when the state's host allowed binary chunks. */
#define ALLOW_KEY "actrun.allow_binary"

static int binary_allowed(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, ALLOW_KEY);
  int allowed = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return allowed;
}

/* The mode to load with: `asked` (the mode argument of load/loadfile, NULL for "bt")
 * without 'b' unless binary chunks are allowed. When the asker allows binary chunks only
 * ("b"), the load is made in text mode and a text chunk is refused afterwards
 * (*only_binary), so that a binary chunk still gets the policy's message. */
static const char *pick_mode(lua_State *L, const char *asked, int *only_binary) {
  if (!asked) asked = "bt";
  *only_binary = 0;
  if (binary_allowed(L)) return asked;
  if (strchr(asked, 't')) return "t";
  if (!strchr(asked, 'b')) return asked; /* neither: Lua refuses everything itself */
  *only_binary = 1;
  return "t";
}

/* After a load with pick_mode's mode (the function or the message on top): a text chunk
 * the asker refused becomes Lua's own error, and Lua's "attempt to load a binary chunk"
 * the policy's message, prefixed by `who` (a function name, or NULL) and naming `name`
 * (the file, or NULL). Returns the status. */
static int finish_load(lua_State *L, int status, int only_binary, const char *asked,
                       const char *who, const char *name) {
  if (status == LUA_OK && only_binary) {
    lua_pop(L, 1);
    lua_pushfstring(L, "attempt to load a text chunk (mode is '%s')", asked);
    return LUA_ERRSYNTAX;
  }
  if (status == LUA_OK) return status;
  static const char lua_says[] = "attempt to load a binary chunk";
  const char *msg = lua_tostring(L, -1);
  if (!msg || strncmp(msg, lua_says, sizeof lua_says - 1) != 0) return status;
  lua_pop(L, 1);
  lua_pushfstring(L,
                  "%s%srefusing a precompiled (binary) chunk%s%s%s: Lua does not verify "
                  "bytecode; allow it only for trusted code (actrun --allow-binary, or "
                  "actrun_new_ex(ACTRUN_ALLOW_BINARY))",
                  who ? who : "", who ? ": " : "", name ? " in '" : "", name ? name : "",
                  name ? "'" : "");
  return status;
}

/* A file under the policy; `path` NULL is stdin. */
static int load_file(lua_State *L, const char *path, const char *asked, const char *who) {
  int only_binary;
  const char *mode = pick_mode(L, asked, &only_binary);
  return finish_load(L, luaL_loadfilex(L, path, mode), only_binary, asked ? asked : "bt", who,
                     path ? path : "stdin");
}

ACTRUN_API int actrun_load_file(lua_State *L, const char *path) {
  return load_file(L, path, NULL, NULL);
}

ACTRUN_API int actrun_load_buffer(lua_State *L, const char *buf, size_t len,
                                  const char *chunkname) {
  int only_binary;
  const char *mode = pick_mode(L, NULL, &only_binary);
  /* a chunk name that names something ("=(command line)", "@file") is shown; a source
   * text used as its own name is not */
  const char *name =
      chunkname && (chunkname[0] == '=' || chunkname[0] == '@') ? chunkname + 1 : NULL;
  return finish_load(L, luaL_loadbufferx(L, buf, len, chunkname ? chunkname : buf, mode),
                     only_binary, "bt", NULL, name);
}

/* ---------- the Lua functions ---------- */

/* load/loadfile: the standard function (upvalue 1) called with the arguments as given but
 * the mode the policy allows (argument mode_arg). The arguments are checked here, so the
 * standard function's own errors never name it '?'. */
static int call_policed(lua_State *L, int mode_arg, const char *who, const char *name) {
  int n = lua_gettop(L);
  char asked[16]; /* a copy: the argument is replaced below */
  snprintf(asked, sizeof asked, "%s", luaL_optstring(L, mode_arg, "bt"));
  int only_binary;
  const char *mode = pick_mode(L, asked, &only_binary);
  if (n < mode_arg) {
    lua_settop(L, mode_arg);
    n = mode_arg;
  }
  lua_pushstring(L, mode);
  lua_replace(L, mode_arg);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, 2); /* the function, or nil and the message */
  int status = lua_isnil(L, -2) ? LUA_ERRSYNTAX : LUA_OK;
  lua_remove(L, status == LUA_OK ? -1 : -2);
  status = finish_load(L, status, only_binary, asked, who, name);
  if (status == LUA_OK) return 1;
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

/* load(chunk [, chunkname [, mode [, env]]]) */
static int l_load(lua_State *L) {
  if (!lua_isstring(L, 1)) luaL_checktype(L, 1, LUA_TFUNCTION);
  const char *chunkname = luaL_optstring(L, 2, NULL);
  /* a chunk name is shown only when given (the default is the source itself) */
  if (chunkname && (chunkname[0] == '=' || chunkname[0] == '@')) chunkname++;
  return call_policed(L, 3, "load", chunkname);
}

/* loadfile([filename [, mode [, env]]]) */
static int l_loadfile(lua_State *L) {
  const char *path = luaL_optstring(L, 1, NULL);
  return call_policed(L, 2, "loadfile", path ? path : "stdin");
}

static int dofile_cont(lua_State *L, int status, lua_KContext k) {
  (void)status;
  (void)k;
  return lua_gettop(L) - 1;
}

/* dofile([filename]): the standard one loads with luaL_loadfile (any mode), so it is
 * replaced rather than wrapped. */
static int l_dofile(lua_State *L) {
  const char *path = luaL_optstring(L, 1, NULL);
  lua_settop(L, 1);
  if (load_file(L, path, NULL, "dofile") != LUA_OK) return lua_error(L);
  lua_callk(L, 0, LUA_MULTRET, 0, dofile_cont);
  return dofile_cont(L, 0, 0);
}

/* package.searchers[2], for Lua files: as the standard one (package.path searched with
 * package.searchpath, upvalues 1 and 2), loading in text mode. */
static int searcher_text(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_getfield(L, lua_upvalueindex(1), "path");
  if (!lua_isstring(L, -1)) return luaL_error(L, "'package.path' must be a string");
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -3);
  lua_call(L, 2, 2);
  if (lua_isnil(L, -2)) return 1; /* not found: searchpath's list of files tried */
  lua_pop(L, 1);
  const char *path = lua_tostring(L, -1);
  if (load_file(L, path, NULL, NULL) != LUA_OK)
    return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, path,
                      lua_tostring(L, -1));
  lua_pushstring(L, path); /* the loader's second argument, as the standard searcher's */
  return 2;
}

static void wrap_global(lua_State *L, const char *name, lua_CFunction wrapper) {
  lua_getglobal(L, name);
  lua_pushcclosure(L, wrapper, 1);
  lua_setglobal(L, name);
}

void lt_chunks_policy(lua_State *L, int allow_binary) {
  lua_pushboolean(L, allow_binary);
  lua_setfield(L, LUA_REGISTRYINDEX, ALLOW_KEY);
  if (allow_binary) return;
  int top = lua_gettop(L);
  wrap_global(L, "load", l_load);
  wrap_global(L, "loadfile", l_loadfile);
  lua_register(L, "dofile", l_dofile);
  if (lua_getglobal(L, "package") == LUA_TTABLE && lua_getfield(L, -1, "searchers") == LUA_TTABLE) {
    lua_pushvalue(L, -2);
    lua_getfield(L, -3, "searchpath");
    lua_pushcclosure(L, searcher_text, 2);
    lua_rawseti(L, -2, 2); /* after preload, before the C searchers (kept) */
  }
  lua_settop(L, top);
}
