/* Shared pieces of the `actrun` command (a host of include/actrun.h like any other). */
#ifndef ACTRUN_CLI_H
#define ACTRUN_CLI_H

#include <stdio.h>

#include <lua.h>

#define CLI_PROGNAME "actrun"

/* lua_pcall with a traceback message handler; Ctrl-C during the call raises the Lua
 * error "interrupted!". The function and its nargs arguments are on the stack. */
int cli_docall(lua_State *L, int nargs, int nresults);

/* Prints the error message on top of the stack (if status is not LUA_OK) to stderr,
 * prefixed by `prefix` when non-NULL, and pops it. Returns status. */
int cli_report(lua_State *L, int status, const char *prefix);

/* The interactive loop: reads, evaluates and prints until end of input. */
void cli_repl(lua_State *L);

/* Prints the version line ("actrun X.Y.Z (Lua 5.4.N)") to f. */
void cli_print_version(lua_State *L, FILE *f);

#endif
