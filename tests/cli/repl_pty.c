/* Drives the actrun REPL on a pseudo-terminal, as a user at a terminal would:
 * multi-line statements, printed and suppressed results, completion, Ctrl-C at the
 * prompt and during a running statement, `?` help, errors, history and Ctrl-D; top-level
 * locals that outlive their line, pretty-printed tables, a plot drawn once and as wide
 * as the terminal, help by short name, _PROMPT and a broken print.
 * Usage: repl_pty PATH_TO_ACTRUN */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STEP_TIMEOUT_MS 10000

static int master = -1;
static pid_t child = -1;
static char out[1 << 20]; /* everything the REPL wrote */
static size_t outlen;
static char home[] = "/tmp/actrun-repl-XXXXXX";

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void cleanup(void) {
  if (child > 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = -1;
  }
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
  if (system(cmd) != 0) { /* leaving a temp dir behind is harmless */
  }
}

/* Prints the transcript with control characters made visible, then fails. */
static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "repl_pty: FAIL: ");
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n--- transcript ---\n");
  for (size_t i = 0; i < outlen; i++) {
    unsigned char c = (unsigned char)out[i];
    if (c == '\n' || (c >= 32 && c < 127))
      fputc(c, stderr);
    else if (c != '\r')
      fprintf(stderr, "\\x%02x", c);
  }
  fprintf(stderr, "\n--- end ---\n");
  cleanup();
  exit(1);
}

/* Reads what is available within ms milliseconds; returns 0 at end of output. */
static int pump(int ms) {
  struct pollfd p = {master, POLLIN, 0};
  int r = poll(&p, 1, ms);
  if (r <= 0) return 1;
  if (outlen + 4096 >= sizeof out) fail("too much output");
  ssize_t n = read(master, out + outlen, 4096);
  if (n <= 0) return 0; /* EIO once the child has closed the terminal */
  outlen += (size_t)n;
  out[outlen] = '\0';
  return 1;
}

/* Waits until `what` appears in the output after offset `from`; returns the offset
 * just past it. */
static size_t expect(size_t from, const char *what) {
  long deadline = now_ms() + STEP_TIMEOUT_MS;
  for (;;) {
    if (from <= outlen) {
      char *hit = memmem(out + from, outlen - from, what, strlen(what));
      if (hit) return (size_t)(hit - out) + strlen(what);
    }
    long left = deadline - now_ms();
    if (left <= 0) fail("timed out waiting for \"%s\"", what);
    if (!pump((int)left)) fail("output ended while waiting for \"%s\"", what);
  }
}

static void send(const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(master, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("write: %s", strerror(errno));
    }
    s += w;
    n -= (size_t)w;
  }
}

/* Lets the REPL reach its read after a prompt appeared: keys typed while the terminal
 * is still in cooked mode would be handled by the terminal, not the line editor. */
static void settle(void) {
  long until = now_ms() + 150;
  while (now_ms() < until) pump((int)(until - now_ms()));
}

/* Sends one line and waits for the next prompt ("> " or ">> ") after its echo. */
static size_t line(size_t from, const char *text, const char *prompt) {
  send(text);
  send("\r");
  size_t echo = expect(from, text);
  return expect(echo, prompt);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PATH_TO_ACTRUN\n", argv[0]);
    return 2;
  }
  if (mkdtemp(home) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  alarm(120); /* a last resort: the whole test never hangs */

  struct winsize ws = {24, 100, 0, 0}; /* not 80: plots must follow the terminal */
  child = forkpty(&master, NULL, NULL, &ws);
  if (child < 0) {
    perror("forkpty");
    return 1;
  }
  if (child == 0) {
    setenv("HOME", home, 1);
    unsetenv("ACTRUN_HISTORY");
    setenv("TERM", "xterm", 1);
    unsetenv("COLUMNS"); /* the width comes from the terminal itself */
    unsetenv("LINES");
    execl(argv[1], argv[1], (char *)NULL);
    perror("exec");
    _exit(127);
  }

  size_t at = expect(0, "> ");

  /* a multi-line statement continues on ">> " lines */
  at = line(at, "x = 0", "> ");
  at = line(at, "for i = 1, 3 do", ">> ");
  at = line(at, "  x = x + i", ">> ");
  at = line(at, "end", "> ");
  /* an expression's value is printed */
  send("x * 2\r");
  at = expect(at, "x * 2");
  at = expect(at, "12\r\n");
  at = expect(at, "> ");

  /* a trailing ';' suppresses the value: nothing printed before the next result */
  send("1 + 41;\r");
  size_t before = expect(at, "1 + 41;");
  send("40 + 3\r");
  at = expect(before, "43\r\n");
  if (memmem(out + before, at - before, "42", 2)) fail("'1 + 41;' printed its value");
  at = expect(at, "> ");

  /* several values, tab-separated; strings unquoted */
  send("1, 'two', nil\r");
  at = expect(at, "1\ttwo\tnil\r\n");

  /* completion of a field after '.' (the echo is redrawn, so check the result) */
  send("actrun.vers\t");
  usleep(200 * 1000);
  send("\r");
  at = expect(at, "0.1.0\r\n");

  /* completion of a method after ':' (the string metatable's __index table) */
  at = line(at, "s = 'abc'", "> ");
  send("s:upp\t");
  usleep(200 * 1000);
  send("()\r");
  at = expect(at, "ABC\r\n");

  /* completion of a global name */
  at = line(at, "my_long_variable_name = 5", "> ");
  send("my_long_var\t");
  usleep(200 * 1000);
  send(" + 1000\r");
  at = expect(at, "1005\r\n");

  /* Ctrl-C at the prompt drops the line (and any unfinished statement) */
  at = expect(at, "> ");
  settle();
  send("zzz = (");
  at = expect(at, "zzz = (");
  settle(); /* Ctrl-C while the editor waits for a key (the case of a person typing) */
  send("\x03");
  at = expect(at, "> ");
  send("6 * 9\r");
  at = expect(at, "54\r\n"); /* had the line been kept, "zzz = (6 * 9" would continue */

  /* Ctrl-C stops a running statement with the error "interrupted!" */
  at = expect(at, "> ");
  send("while true do end\r");
  at = expect(at, "while true do end");
  usleep(300 * 1000);
  send("\x03");
  at = expect(at, "interrupted!");
  at = expect(at, "> ");
  send("700 + 77\r");
  at = expect(at, "777\r\n");

  /* errors show the message and a traceback, and the REPL goes on */
  send("error('boom')\r");
  at = expect(at, "boom");
  at = expect(at, "traceback");
  at = expect(at, "> ");

  /* ?x shows documentation */
  send("?help\r");
  at = expect(at, "Shows the documentation");
  at = expect(at, "> ");
  send("help(help)\r");
  at = expect(at, "Shows the documentation");
  at = expect(at, "> ");

  /* a top-level local outlives its line (as in trepl); a <close> one is closed at once */
  at = line(at, "local act = actrun.act", "> ");
  send("type(act.relu)\r");
  at = expect(at, "function\r\n");
  at = line(at, "local a, b <const> = 20, 22", "> ");
  send("a + b\r");
  at = expect(at, "42\r\n");
  at = expect(at, "> ");
  send("local h <close> = setmetatable({}, {__close = function() print('closed now') end})\r");
  at = expect(at, "closed now");
  at = expect(at, "> ");
  at = line(at, "for i = 1, 2 do local inner = i end", "> ");
  send("inner == nil\r");
  at = expect(at, "true\r\n");

  /* tables are pretty-printed, a shape as {3, 4} */
  send("actrun.zeros(3, 4):shape()\r");
  at = expect(at, "{3, 4}\r\n");
  send("{1, 2, {x = 'y'}}\r");
  at = expect(at, "{1, 2, {x = \"y\"}}\r\n");

  /* a plot is drawn once (the string it returns is not echoed), terminal-wide */
  at = expect(at, "> ");
  send("actrun.plot.line{series = {{y = {1, 3, 2}}}, title = 'drawn-once', height = 6, ascii = true}\r");
  /* the typed line comes back once or, on a slow machine (the kernel's echo before the
   * line editor takes the terminal), twice, always as 'drawn-once' in quotes; the plot's
   * title is the one occurrence without them */
  size_t start = at;
  at = expect(at, "++-"); /* the plot's axis */
  at = expect(at, "> ");
  int titles = 0;
  for (size_t p = start; p + 10 <= at; p++)
    if (memcmp(out + p, "drawn-once", 10) == 0 && !(p > 0 && out[p - 1] == '\''))
      titles++;
  if (titles != 1) fail("the plot's title appeared %d times, expected once", titles);
  send("w = 0; for l in actrun.plot.line{series = {{y = {1, 2}}}, print = false, ascii = true}"
       ":gmatch('[^%c]+') do w = math.max(w, #l) end; print('wide', w > 90 and w <= 100)\r");
  at = expect(at, "wide\ttrue\r\n");
  send("actrun.plot.hist({1, 2, 2, 3}, {bins = 3, height = 6, ascii = true})\r");
  at = expect(at, "count");
  size_t hist = at;
  at = expect(at, "> ");
  if (memmem(out + hist, at - hist, "table: ", 7)) fail("plot.hist echoed its tables");

  /* help by a short name, and apropos */
  send("?gelu\r");
  at = expect(at, "actrun.act.gelu(x)");
  at = expect(at, "> ");
  send("help('lekay_relu')\r");
  at = expect(at, "did you mean: actrun.act.leaky_relu");
  at = expect(at, "> ");
  send("apropos('norm')\r");
  at = expect(at, "actrun.nn.LayerNorm");
  at = expect(at, "> ");

  /* _PROMPT may be any value with __tostring, as in lua */
  send("_PROMPT = setmetatable({}, {__tostring = function() return 'custom>> ' end})\r");
  at = expect(at, "custom>> ");
  at = line(at, "_PROMPT = nil", "> ");

  /* a broken print is reported as lua does */
  at = line(at, "print = nil", "> ");
  send("1 + 1\r");
  at = expect(at, "error calling 'print' (attempt to call a nil value)");
  at = expect(at, "> ");

  /* Ctrl-D on an empty line ends the REPL with status 0. The prompt shows just before
   * the line editor puts the terminal in raw mode, and a Ctrl-D typed in between is
   * taken by the terminal's cooked mode: so settle first, and retry. */
  long deadline = now_ms() + STEP_TIMEOUT_MS;
  long next_send = 0;
  int status = 0;
  settle();
  for (;;) {
    if (now_ms() >= next_send) {
      send("\x04");
      next_send = now_ms() + 1000;
    }
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) break;
    if (now_ms() > deadline) fail("no exit after Ctrl-D");
    pump(50);
  }
  child = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("exit status %d after Ctrl-D", WIFEXITED(status) ? WEXITSTATUS(status) : -1);

  /* the history was saved in $HOME/.actrun_history */
  char path[256], buf[65536];
  snprintf(path, sizeof path, "%s/.actrun_history", home);
  FILE *f = fopen(path, "r");
  if (f == NULL) fail("no history file %s", path);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  if (strstr(buf, "700") == NULL) fail("history file lacks the last lines:\n%s", buf);

  cleanup();
  printf("repl_pty: ok\n");
  return 0;
}
