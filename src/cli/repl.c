/* The interactive loop of `actrun`: line editing and history (libedit), completion of
 * names, fields and methods, multi-line statements, printed results, and `?x` help. */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>
#include <lauxlib.h>

#include "actrun.h"
#include "cli.h"

#define PROMPT "> "
#define PROMPT2 ">> "
#define HISTORY_MAX 1000
#define CHUNKNAME "=stdin"

/* The module "actrun.repl" (registry reference; LUA_NOREF when it failed to load: the
 * REPL then runs lines as they are and prints results with print alone). */
static int repl_ref = LUA_NOREF;

/* Statics shared with callbacks that take no user pointer (signal, completion). */
static volatile sig_atomic_t prompt_interrupted;
static lua_State *complete_L;
static char **comp_list; /* the matches computed for the current completion */
static size_t comp_n;

enum { LINE_OK, LINE_EOF, LINE_INTERRUPTED };

/* ---------- reading lines ---------- */

/* Ctrl-C at the prompt: the pending read fails with EINTR (neither libedit's handler,
 * which passes the signal on to this one, nor ours restarts it) and the line is dropped. */
static void on_prompt_sigint(int sig) {
  (void)sig;
  prompt_interrupted = 1;
}

/* Protected: tostring of the value at 1 (its __tostring, as print would show it). */
static int prompt_text(lua_State *L) {
  luaL_tolstring(L, 1, NULL);
  return 1;
}

/* Pushes the prompt: the global _PROMPT / _PROMPT2 when set, through tostring (as lua
 * does: a table with __tostring works), else ours; also when tostring fails. */
static const char *push_prompt(lua_State *L, int first) {
  if (lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2") != LUA_TNIL) {
    lua_pushcfunction(L, prompt_text);
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
      return lua_tostring(L, -1);
  }
  lua_pop(L, 1);
  return lua_pushstring(L, first ? PROMPT : PROMPT2);
}

/* Reads a line without its newline into *out (malloc'd). */
static int read_line(lua_State *L, int use_readline, int first, char **out) {
  const char *prompt = push_prompt(L, first);
  char *line = NULL;
  prompt_interrupted = 0;
  if (use_readline) {
    line = readline(prompt);
  } else {
    size_t cap = 0;
    fputs(prompt, stdout);
    fflush(stdout);
    if (getline(&line, &cap, stdin) < 0) {
      free(line);
      line = NULL;
      clearerr(stdin); /* an interrupted read sets the error flag */
    }
  }
  lua_pop(L, 1);
  if (prompt_interrupted) {
    prompt_interrupted = 0;
    free(line);
    fputc('\n', stdout);
    fflush(stdout);
    return LINE_INTERRUPTED;
  }
  if (line == NULL) return LINE_EOF;
  size_t n = strlen(line);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
  *out = line;
  return LINE_OK;
}

static const char *skip_space(const char *s) {
  while (*s == ' ' || *s == '\t') s++;
  return s;
}

/* A trailing `;` asks for the value not to be printed. */
static int ends_with_semicolon(const char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  return n > 0 && s[n - 1] == ';';
}

/* ---------- history ---------- */

static char *history_path(void) {
  const char *env = getenv("ACTRUN_HISTORY");
  if (env && *env) return strdup(env);
  const char *home = getenv("HOME");
  if (home == NULL || *home == '\0') return NULL; /* no persistent history */
  size_t n = strlen(home) + sizeof "/.actrun_history";
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/.actrun_history", home);
  return p;
}

static void remember(const char *chunk, char **last) {
  if (*skip_space(chunk) == '\0') return;
  if (*last && strcmp(*last, chunk) == 0) return; /* no runs of the same entry */
  add_history(chunk);
  free(*last);
  *last = strdup(chunk);
}

/* ---------- completion ---------- */

static int is_ident(const char *s, size_t n) {
  if (n == 0 || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
    return 0;
  for (size_t i = 1; i < n; i++) {
    char c = s[i];
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      return 0;
  }
  return 1;
}

static const char *const keywords[] = {"and",   "break", "do",       "else",  "elseif", "end",
                                       "false", "for",   "function", "goto",  "if",     "in",
                                       "local", "nil",   "not",      "or",    "repeat", "return",
                                       "then",  "true",  "until",    "while", NULL};

struct comp {
  int out;          /* set of candidates: full word -> true */
  const char *head; /* the text before the partial name, kept in every candidate */
  size_t headlen;
  const char *part; /* the partial name being completed */
  size_t partlen;
};

static void comp_add(lua_State *L, const struct comp *c, const char *key, size_t klen) {
  if (!is_ident(key, klen) || klen < c->partlen || memcmp(key, c->part, c->partlen) != 0) return;
  /* metamethods and other "__" internals only when asked for */
  if (klen >= 2 && key[0] == '_' && key[1] == '_' && !(c->partlen >= 2 && c->part[1] == '_'))
    return;
  lua_pushlstring(L, c->head, c->headlen);
  lua_pushlstring(L, key, klen);
  lua_concat(L, 2);
  lua_pushboolean(L, 1);
  lua_rawset(L, c->out);
}

static int is_callable(lua_State *L, int idx) {
  if (lua_isfunction(L, idx)) return 1;
  int t = luaL_getmetafield(L, idx, "__call");
  if (t != LUA_TNIL) lua_pop(L, 1);
  return t != LUA_TNIL;
}

/* String keys of the table at idx (raw); with only_callable, those holding functions. */
static void comp_keys(lua_State *L, const struct comp *c, int idx, int only_callable) {
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING && (!only_callable || is_callable(L, -1))) {
      size_t n;
      const char *k = lua_tolstring(L, -2, &n);
      comp_add(L, c, k, n);
    }
    lua_pop(L, 1);
  }
}

/* A `__methods` metatable field: a list of names or a name -> function table. */
static void comp_methods_field(lua_State *L, const struct comp *c, int idx) {
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    size_t n;
    if (lua_type(L, -2) == LUA_TSTRING) {
      const char *k = lua_tolstring(L, -2, &n);
      comp_add(L, c, k, n);
    } else if (lua_type(L, -1) == LUA_TSTRING) {
      const char *v = lua_tolstring(L, -1, &n);
      comp_add(L, c, v, n);
    }
    lua_pop(L, 1);
  }
}

/* Names reachable through metatables: chained __index tables, and for methods the
 * `__methods` list objects whose __index is a function provide. */
static void comp_meta(lua_State *L, const struct comp *c, int idx, int methods) {
  int top = lua_gettop(L);
  lua_pushvalue(L, idx);
  for (int depth = 0; depth < 8 && lua_getmetatable(L, -1); depth++) {
    int mt = lua_gettop(L);
    if (methods) {
      lua_pushliteral(L, "__methods");
      if (lua_rawget(L, mt) == LUA_TTABLE) comp_methods_field(L, c, -1);
      lua_pop(L, 1);
    }
    lua_pushliteral(L, "__index");
    if (lua_rawget(L, mt) != LUA_TTABLE) break;
    comp_keys(L, c, -1, methods);
  }
  lua_settop(L, top);
}

/* For a loaded module M (package.loaded[M] == value), its submodules "M.X" known to
 * package.preload or package.loaded: they may load lazily on first access. */
static void comp_submodules(lua_State *L, const struct comp *c, int idx) {
  int top = lua_gettop(L);
  idx = lua_absindex(L, idx);
  if (lua_getglobal(L, "package") != LUA_TTABLE) goto done;
  int pkg = lua_gettop(L);
  if (lua_getfield(L, pkg, "loaded") != LUA_TTABLE) goto done;
  int loaded = lua_gettop(L);
  const char *mod = NULL;
  size_t modlen = 0;
  lua_pushnil(L);
  while (lua_next(L, loaded) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, idx)) {
      mod = lua_tolstring(L, -2, &modlen); /* anchored in package.loaded */
      lua_pop(L, 2);
      break;
    }
    lua_pop(L, 1);
  }
  if (mod == NULL) goto done;
  const char *lists[] = {"preload", "loaded"};
  for (int i = 0; i < 2; i++) {
    if (lua_getfield(L, pkg, lists[i]) == LUA_TTABLE) {
      lua_pushnil(L);
      while (lua_next(L, -2) != 0) {
        size_t n;
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &n) : NULL;
        if (k && n > modlen + 1 && memcmp(k, mod, modlen) == 0 && k[modlen] == '.')
          comp_add(L, c, k + modlen + 1, n - modlen - 1); /* rejects deeper "M.X.Y" */
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
done:
  lua_settop(L, top);
}

/* Protected: (text) -> set of completions. Fields are read with lua_getfield, so lazy
 * fields (a submodule loaded on first access) resolve as they would in code. */
static int collect_completions(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  lua_settop(L, 1);
  lua_newtable(L);
  struct comp c = {2, text, 0, text, len};
  const char *sep = NULL;
  for (const char *p = text; *p; p++)
    if (*p == '.' || *p == ':') sep = p;
  if (sep == NULL) { /* a global name or a keyword */
    lua_pushglobaltable(L);
    comp_keys(L, &c, -1, 0);
    comp_meta(L, &c, -1, 0);
    lua_pop(L, 1);
    for (int i = 0; keywords[i]; i++) comp_add(L, &c, keywords[i], strlen(keywords[i]));
    return 1;
  }
  /* resolve the dotted path before the separator: a.b.c */
  const char *p = text;
  int first = 1;
  while (p < sep) {
    const char *dot = memchr(p, '.', (size_t)(sep - p));
    const char *end = dot ? dot : sep;
    if (!is_ident(p, (size_t)(end - p))) return 1;
    lua_pushlstring(L, p, (size_t)(end - p));
    if (first) {
      lua_pushglobaltable(L);
      lua_insert(L, -2);
      lua_gettable(L, -2);
      lua_remove(L, -2);
    } else {
      if (lua_type(L, -2) != LUA_TTABLE && lua_type(L, -2) != LUA_TUSERDATA &&
          lua_type(L, -2) != LUA_TSTRING)
        return 1;
      lua_gettable(L, -2);
      lua_remove(L, -2);
    }
    first = 0;
    p = end + 1;
  }
  c.headlen = (size_t)(sep - text) + 1;
  c.part = sep + 1;
  c.partlen = len - c.headlen;
  int v = lua_gettop(L);
  if (*sep == '.') {
    if (lua_istable(L, v)) {
      comp_keys(L, &c, v, 0);
      comp_submodules(L, &c, v);
    }
    comp_meta(L, &c, v, 0);
  } else {
    if (lua_istable(L, v)) comp_keys(L, &c, v, 1);
    comp_meta(L, &c, v, 1);
  }
  lua_settop(L, 2);
  return 1;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void comp_clear(void) {
  for (size_t i = 0; i < comp_n; i++) free(comp_list[i]);
  free(comp_list);
  comp_list = NULL;
  comp_n = 0;
}

/* Fills comp_list with the sorted completions of text. */
static void comp_compute(const char *text) {
  lua_State *L = complete_L;
  comp_clear();
  int top = lua_gettop(L);
  lua_pushcfunction(L, collect_completions);
  lua_pushstring(L, text);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    size_t cap = 0;
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      lua_pop(L, 1);
      if (comp_n == cap) {
        cap = cap ? cap * 2 : 32;
        char **grown = realloc(comp_list, cap * sizeof *grown);
        if (grown == NULL) break;
        comp_list = grown;
      }
      char *s = strdup(lua_tostring(L, -1));
      if (s) comp_list[comp_n++] = s;
    }
    if (comp_n) qsort(comp_list, comp_n, sizeof *comp_list, cmp_str);
  }
  lua_settop(L, top);
}

/* readline's generator protocol: state 0 starts, each call hands out one malloc'd match. */
static char *comp_generator(const char *text, int state) {
  static size_t next;
  (void)text;
  if (state == 0) next = 0;
  return next < comp_n ? strdup(comp_list[next++]) : NULL;
}

static char **complete(const char *text, int start, int end) {
  (void)start;
  (void)end;
  rl_attempted_completion_over = 1;      /* never fall back to file names */
  rl_completion_append_character = '\0'; /* no space: "t:sum" is followed by "(" */
  comp_compute(text);
  char **m = comp_n ? rl_completion_matches(text, comp_generator) : NULL;
  comp_clear();
  return m;
}

/* ---------- evaluating ---------- */

/* Pushes field `name` of the actrun.repl module; returns 0 (nothing pushed) without it. */
static int push_repl_field(lua_State *L, const char *name) {
  if (repl_ref == LUA_NOREF) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, repl_ref);
  int t = lua_getfield(L, -1, name);
  lua_remove(L, -2);
  if (t != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

/* Shows the values from base + 1 to the top, which it pops: each as repl.results
 * formats it (tables pretty-printed, the values a call displayed itself left out),
 * passed to the global print, as lua does. Reports a failure of print as lua does. */
static void show_results(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  int status = LUA_OK;
  if (push_repl_field(L, "results")) {
    lua_insert(L, base + 1);
    status = cli_docall(L, n, 1);
    if (status != LUA_OK) {
      cli_report(L, status, NULL);
      lua_settop(L, base);
      return;
    }
    n = (int)luaL_len(L, -1); /* the formatted strings replace the values */
    luaL_checkstack(L, n + 2, "too many results to print");
    for (int i = 1; i <= n; i++) lua_rawgeti(L, base + 1, i);
    lua_remove(L, base + 1);
    if (n == 0) return; /* all displayed already */
  }
  lua_getglobal(L, "print");
  lua_insert(L, base + 1);
  status = lua_pcall(L, n, 0, 0);
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    lua_pushfstring(L, "error calling 'print' (%s)",
                    msg ? msg : lua_pushfstring(L, "(error object is a %s value)",
                                                luaL_typename(L, -1)));
    cli_report(L, status, NULL);
  }
  lua_settop(L, base);
}

/* Loads a chunk the user typed, its top-level locals made to outlive it (repl.rewrite);
 * the text as typed when the rewrite is unavailable or fails. Pushes the function or
 * the error message; returns the load status. */
static int load_typed(lua_State *L, const char *text, size_t len) {
  int top = lua_gettop(L);
  if (push_repl_field(L, "rewrite")) {
    lua_pushlstring(L, text, len);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
      size_t rlen;
      const char *r = lua_tolstring(L, -1, &rlen);
      int status = actrun_load_buffer(L, r, rlen, CHUNKNAME);
      lua_remove(L, -2);
      return status;
    }
    lua_settop(L, top);
  }
  return actrun_load_buffer(L, text, len, CHUNKNAME);
}

/* `?x`: help(x) for a value x, or help("x") when x is no value (a name or topic). */
static const char help_chunk[] =
    "local s = ...\n"
    "local h = help or require('actrun.help')\n"
    "if s == '' then return h() end\n"
    "local f = load('return ' .. s, '=stdin')\n"
    "local ok, v = false, nil\n"
    "if f then ok, v = pcall(f) end\n"
    "if ok and v ~= nil and (type(v) ~= 'string' or s:find('^[\"\\'%[]')) then\n"
    "  return h(v)\n"
    "end\n"
    "return h(s)\n";

static void show_help(lua_State *L, const char *what) {
  size_t n = strlen(what);
  while (n > 0 && (what[n - 1] == ' ' || what[n - 1] == '\t')) n--;
  int status = luaL_loadbuffer(L, help_chunk, sizeof help_chunk - 1, "=help");
  if (status == LUA_OK) {
    lua_pushlstring(L, what, n);
    status = cli_docall(L, 1, 0);
  }
  cli_report(L, status, NULL);
}

static int incomplete(lua_State *L, int status) {
  if (status != LUA_ERRSYNTAX) return 0;
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  const size_t eoflen = sizeof "<eof>" - 1;
  return msg && len >= eoflen && strcmp(msg + len - eoflen, "<eof>") == 0;
}

/* Compiles a statement, reading continuation lines while it is incomplete. *chunk is
 * the text so far (malloc'd, grown here). Pushes the function or the error message;
 * returns LINE_INTERRUPTED (nothing pushed) on Ctrl-C. */
static int read_statement(lua_State *L, int use_readline, char **chunk, int *status) {
  for (;;) {
    *status = load_typed(L, *chunk, strlen(*chunk));
    if (!incomplete(L, *status)) return LINE_OK;
    char *more;
    int r = read_line(L, use_readline, 0, &more);
    if (r == LINE_EOF) return LINE_OK; /* report the syntax error */
    lua_pop(L, 1);
    if (r == LINE_INTERRUPTED) return LINE_INTERRUPTED;
    size_t a = strlen(*chunk), b = strlen(more);
    char *joined = realloc(*chunk, a + b + 2);
    if (joined == NULL) {
      free(more);
      luaL_error(L, "not enough memory");
    }
    joined[a] = '\n';
    memcpy(joined + a + 1, more, b + 1);
    *chunk = joined;
    free(more);
  }
}

/* One read-eval-print step starting from the line just read (ownership taken). */
static void eval_line(lua_State *L, int use_readline, char *line, char **last_history) {
  const char *s = skip_space(line);
  if (*s == '?') {
    if (use_readline) remember(line, last_history);
    show_help(L, skip_space(s + 1));
    free(line);
    return;
  }
  int base = lua_gettop(L);
  int silent = ends_with_semicolon(line);
  int status;
  /* an expression first (its value is printed), as lua does */
  lua_pushfstring(L, "return %s", line);
  size_t rlen;
  const char *ret = lua_tolstring(L, -1, &rlen);
  status = actrun_load_buffer(L, ret, rlen, CHUNKNAME);
  lua_remove(L, -2);
  if (status != LUA_OK) {
    lua_pop(L, 1);
    if (read_statement(L, use_readline, &line, &status) == LINE_INTERRUPTED) {
      if (use_readline) remember(line, last_history);
      free(line);
      return;
    }
  }
  if (use_readline) remember(line, last_history);
  free(line);
  if (status == LUA_OK && push_repl_field(L, "begin")) { /* forget what was displayed */
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) lua_pop(L, 1);
  }
  if (status == LUA_OK) status = cli_docall(L, 0, LUA_MULTRET);
  if (status == LUA_OK && !silent && lua_gettop(L) > base) show_results(L, base);
  cli_report(L, status, NULL);
  lua_settop(L, base);
}

void cli_repl(lua_State *L) {
  int use_readline = isatty(STDIN_FILENO);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "actrun.repl");
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1))
    repl_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  else
    lua_pop(L, 1); /* plain lines and print: still a working REPL */
  char *hist = NULL, *last_history = NULL;
  if (use_readline) {
    /* the line editor decodes multibyte input (UTF-8 strings and comments) with the
     * user's LC_CTYPE; Lua's lexer does not depend on it */
    setlocale(LC_CTYPE, "");
    complete_L = L;
    rl_readline_name = CLI_PROGNAME;
    rl_initialize();
    /* '.' and ':' stay inside the word, so `actrun.ze` and `t:su` complete as a whole */
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{}()[]+-*/%^~#,";
    rl_attempted_completion_function = complete;
    stifle_history(HISTORY_MAX);
    hist = history_path();
    if (hist) read_history(hist); /* a missing or unreadable file is fine */
  }
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_prompt_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);

  for (;;) {
    char *line;
    int r = read_line(L, use_readline, 1, &line);
    if (r == LINE_EOF) break;
    if (r == LINE_INTERRUPTED) continue;
    if (*skip_space(line) == '\0') {
      free(line);
      continue;
    }
    eval_line(L, use_readline, line, &last_history);
  }
  fputc('\n', stdout);
  fflush(stdout);

  sigaction(SIGINT, &old, NULL);
  if (hist) {
    int saved = errno;
    write_history(hist); /* best effort: an unwritable home is not an error */
    errno = saved;
  }
  free(hist);
  free(last_history);
  complete_L = NULL;
  luaL_unref(L, LUA_REGISTRYINDEX, repl_ref);
  repl_ref = LUA_NOREF;
}
