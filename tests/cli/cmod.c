/* A Lua C module built the way Debian builds them: without linking Lua, relying on the
 * host program to export the Lua API. `actrun` links Lua statically and must export it
 * (tests/CMakeLists.txt: cli_c_module). */
#include <lauxlib.h>
#include <lua.h>

static int answer(lua_State *L) {
  lua_pushinteger(L, luaL_optinteger(L, 1, 41) + 1);
  return 1;
}

int luaopen_cmod(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, answer);
  lua_setfield(L, -2, "answer");
  return 1;
}
