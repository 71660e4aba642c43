/* Interpreters made by actrun_new load text chunks only: a precompiled (binary) chunk,
 * which Lua runs without verifying, is refused by actrun_run_file/string,
 * actrun_load_file/buffer and, inside Lua, by load, loadfile, dofile and require, with a
 * message saying how to allow it; actrun_new_ex(ACTRUN_ALLOW_BINARY) runs it. A plain Lua
 * state that opens actrun keeps its own load. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "actrun.h"

TestSuite(chunks, .timeout = 120);

#define REFUSED "refusing a precompiled (binary) chunk"

static char dir[64];
static char bc_path[128]; /* a binary chunk: sets the global ran = 42 */

/* Writes the binary chunk (and a copy named like a Lua module, bcmod.lua) into a fresh
 * directory, using an interpreter's string.dump, which is allowed. */
static void make_files(void) {
  snprintf(dir, sizeof dir, "%s", "/tmp/actrun-chunks-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(bc_path, sizeof bc_path, "%s/bc.luac", dir);
  actrun *A = actrun_new();
  cr_assert_not_null(A);
  char code[512];
  snprintf(code, sizeof code,
           "local s = string.dump(load('ran = 42'))\n"
           "for _, p in ipairs{'%s', '%s/bcmod.lua'} do\n"
           "  local f = assert(io.open(p, 'wb')) f:write(s) f:close()\n"
           "end",
           bc_path, dir);
  cr_assert_eq(actrun_run_string(A, code), 0, "%s", actrun_error(A));
  actrun_free(A);
}

static void remove_files(void) {
  char p[160];
  snprintf(p, sizeof p, "%s/bcmod.lua", dir);
  unlink(p);
  unlink(bc_path);
  rmdir(dir);
}

static void has(const char *msg, const char *a, const char *b) {
  cr_assert(strstr(msg, a) != NULL, "message '%s' lacks '%s'", msg, a);
  if (b) cr_assert(strstr(msg, b) != NULL, "message '%s' lacks '%s'", msg, b);
}

/* Runs `code` (which leaves a message or "ran" in the global `out`) and returns `out`. */
static const char *lua_out(actrun *A, const char *code) {
  cr_assert_eq(actrun_run_string(A, code), 0, "%s", actrun_error(A));
  lua_State *L = actrun_lua(A);
  lua_getglobal(L, "out");
  static char buf[1024];
  snprintf(buf, sizeof buf, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "(not a string)");
  lua_pop(L, 1);
  return buf;
}

/* The Lua ways in; each sets out to the error, or to "ran" when the chunk ran. */
static void lua_ways(actrun *A, int allowed) {
  char code[1024];
  const char *ran = allowed ? "ran" : REFUSED;
  has(lua_out(A,
              "ran = nil local f, e = load(string.dump(function() ran = 42 end))"
              " if f then f() end out = ran == 42 and 'ran' or e"),
      ran, allowed ? NULL : "load: ");
  /* whatever mode the script asks for */
  has(lua_out(A,
              "ran = nil local f, e = load(string.dump(function() ran = 42 end), 'x', 'b')"
              " if f then f() end out = ran == 42 and 'ran' or e"),
      ran, NULL);
  snprintf(code, sizeof code,
           "ran = nil local f, e = loadfile('%s', 'bt') if f then f() end"
           " out = ran == 42 and 'ran' or e",
           bc_path);
  has(lua_out(A, code), ran, allowed ? NULL : "loadfile: ");
  snprintf(code, sizeof code,
           "ran = nil local ok, e = pcall(dofile, '%s') out = ran == 42 and 'ran' or e", bc_path);
  has(lua_out(A, code), ran, allowed ? NULL : "dofile: ");
  snprintf(code, sizeof code,
           "ran = nil package.loaded.bcmod = nil package.path = '%s/?.lua'"
           " local ok, e = pcall(require, 'bcmod') out = ran == 42 and 'ran' or e",
           dir);
  has(lua_out(A, code), ran, allowed ? NULL : "error loading module 'bcmod'");
}

Test(chunks, binary_chunks_are_refused_by_default) {
  make_files();
  actrun *A = actrun_new();
  cr_assert_not_null(A);
  /* the C API */
  cr_assert_neq(actrun_run_file(A, bc_path), 0);
  has(actrun_error(A), REFUSED, bc_path);
  has(actrun_error(A), "--allow-binary", "ACTRUN_ALLOW_BINARY");
  cr_assert_neq(actrun_run_string(A, "\x1bLua\x54"), 0);
  has(actrun_error(A), REFUSED, NULL);
  lua_State *L = actrun_lua(A);
  cr_assert_neq(actrun_load_file(L, bc_path), LUA_OK);
  has(lua_tostring(L, -1), REFUSED, bc_path);
  lua_pop(L, 1);
  cr_assert_eq(actrun_load_buffer(L, "return 1", 8, "=src"), LUA_OK);
  lua_pop(L, 1);
  lua_ways(A, 0);
  /* nothing ran, and the interpreter is still usable */
  cr_assert_eq(actrun_run_string(A, "assert(ran == nil) x = 1"), 0, "%s", actrun_error(A));
  actrun_free(A);
  remove_files();
}

Test(chunks, allow_binary_runs_them) {
  make_files();
  actrun *A = actrun_new_ex(ACTRUN_ALLOW_BINARY);
  cr_assert_not_null(A);
  cr_assert_eq(actrun_run_file(A, bc_path), 0, "%s", actrun_error(A));
  double v;
  cr_assert_eq(actrun_get_number(A, "ran", &v), 0);
  cr_assert_eq(v, 42);
  lua_ways(A, 1);
  actrun_free(A);
  remove_files();
}

Test(chunks, unknown_options_are_refused) {
  cr_assert_null(actrun_new_ex(2));
  actrun *A = actrun_new_ex(0);
  cr_assert_not_null(A);
  actrun_free(A);
}

/* require "actrun" into someone else's Lua: its load is its host's business */
Test(chunks, a_foreign_state_keeps_its_load) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "actrun", luaopen_actrun, 1);
  lua_pop(L, 1);
  cr_assert_eq(luaL_dostring(L,
                             "ran = nil load(string.dump(function() ran = 42 end))()"
                             " assert(ran == 42)"),
               LUA_OK, "%s", lua_tostring(L, -1));
  lua_close(L);
}
