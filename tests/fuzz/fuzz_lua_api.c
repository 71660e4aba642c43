/* libFuzzer harness: fuzz bytes -> a short Lua program of tensor-API calls with random
 * shapes and values, run in a fresh actrun interpreter. Each call runs under pcall, so
 * Lua errors (bad shapes, out-of-range dims, ...) are expected and fine; a crash, a
 * sanitizer report or a hang is a finding. Four variables a, b, c, d hold the values
 * the calls produce, so later calls operate on earlier results (views of views, grads).
 *
 * Besides the creating and computing calls, the program writes into tensors (elements,
 * fill, zero, copy, set) while autograd records them, differentiates through those writes
 * (backward and actrun.grad with their options), sets requires_grad and .grad, detaches,
 * closes tensors that later calls still use, and calls the tensor metamethods and
 * methods with a self that is not a tensor.
 *
 * The program is printed with -DFUZZ_PRINT or when ACTRUN_FUZZ_PRINT is set in the
 * environment, to turn a crash into a Lua regression test. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actrun.h>

typedef struct {
  const uint8_t *p;
  size_t n;
} bytes;

static unsigned next(bytes *b) {
  if (!b->n) return 0;
  b->n--;
  return *b->p++;
}

typedef struct {
  char *s;
  size_t len, cap;
} buf;

static void put(buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *o, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (k < 0) return;
  if ((size_t)k >= sizeof tmp) k = sizeof tmp - 1;
  if (o->len + (size_t)k + 1 > o->cap) {
    o->cap = (o->len + (size_t)k + 1) * 2;
    o->s = realloc(o->s, o->cap);
    if (!o->s) abort();
  }
  memcpy(o->s + o->len, tmp, (size_t)k + 1);
  o->len += (size_t)k;
}

/* A size: mostly small, sometimes 0, negative, not an integer or too large to allocate
 * at all (sizes that fit but take gigabytes would only exhaust the fuzzer's memory). */
static const char *size_of(bytes *b, char *tmp) {
  unsigned v = next(b);
  if (v < 200) {
    snprintf(tmp, 32, "%u", v % 6);
    return tmp;
  }
  static const char *odd[] = {"-1", "-2", "0", "1<<62", "2^40", "1e300", "0/0", "2.5",
                              "math.maxinteger", "math.mininteger", "-0.0", "64",
                              "(1<<31)*(1<<31)", "nil", "'x'", "{}"};
  return odd[(v - 200) % (sizeof odd / sizeof *odd)];
}

/* A number: small values, with the special ones now and then. */
static const char *value_of(bytes *b, char *tmp) {
  unsigned v = next(b);
  if (v < 220) {
    snprintf(tmp, 32, "%d", (int)v / 20 - 5);
    return tmp;
  }
  static const char *odd[] = {"0/0", "math.huge", "-math.huge", "1e38", "-1e38", "1e-45",
                              "0.5", "-0.5"};
  return odd[(v - 220) % (sizeof odd / sizeof *odd)];
}

static const char *var_of(bytes *b) {
  static const char *v[] = {"a", "b", "c", "d"};
  return v[next(b) % 4];
}

static const char *dim_of(bytes *b, char *tmp) {
  unsigned v = next(b);
  if (v < 240) {
    snprintf(tmp, 32, "%d", (int)(v % 7) - 3); /* -3..3: valid and invalid dims */
    return tmp;
  }
  return v & 1 ? "9" : "1<<40";
}

static const char *bool_of(bytes *b) {
  static const char *v[] = {"true", "false", "nil", "1"};
  return v[next(b) % 4];
}

/* a self that is not a live tensor, or a variable (a tensor, closed or not, or else) */
static const char *self_of(bytes *b) {
  static const char *v[] = {"io.stdout", "'s'", "{}", "nil", "1.5", "CLOSED", "a", "b", "c",
                            "d", "print", "coroutine.running()"};
  return v[next(b) % (sizeof v / sizeof *v)];
}

/* An in-place write into m, the name of a tensor in the generated code. */
static void write_into(bytes *b, buf *o, const char *m, const char *y) {
  char s1[32], s2[32], s3[32];
  switch (next(b) % 7) {
  case 0: put(o, "%s[%s] = %s; ", m, size_of(b, s1), value_of(b, s2)); break;
  case 1: put(o, "%s[%s] = T(%s); ", m, size_of(b, s1), y); break;
  case 2: put(o, "%s:fill(%s); ", m, value_of(b, s1)); break;
  case 3: put(o, "%s:zero(); ", m); break;
  case 4: put(o, "%s:copy(T(%s)); ", m, y); break;
  case 5: put(o, "%s:set(%s, %s, %s); ", m, size_of(b, s1), size_of(b, s2), value_of(b, s3)); break;
  default: put(o, "%s[{%s, %s}] = %s; ", m, size_of(b, s1), size_of(b, s2), value_of(b, s3)); break;
  }
}

static void gen(bytes *b, buf *o) {
  char s1[32], s2[32], s3[32], s4[32];
  put(o, "local a, b, c, d = actrun.zeros(2, 3), actrun.ones(3), actrun.randn(2, 3), "
         "actrun.range(1, 4)\n"
         "local act, nn = actrun.act, actrun.nn\n"
         /* operands are capped at 2^16 elements: repeated cat(x, x) doubles without end */
         "local function T(x)\n"
         "  return actrun.is_tensor(x) and x:numel() <= 65536 and x or actrun.zeros(1)\n"
         "end\n"
         "actrun.manual_seed(%u)\n",
      next(b));
  /* (put writes at most 511 bytes at a time) a closed tensor, and every metamethod and
   * method by number */
  put(o, "local MT = getmetatable(a)\n"
         "local CLOSED = actrun.ones(2); MT.__close(CLOSED)\n"
         "local NAMES = {}\n"
         "for k, v in pairs(MT) do if type(v) == 'function' then NAMES[#NAMES + 1] = k end end\n"
         "for k in pairs(MT.__methods) do NAMES[#NAMES + 1] = k end\n"
         "table.sort(NAMES)\n");
  put(o, "local function M(i) local k = NAMES[i %% #NAMES + 1]; return MT[k] or MT.__methods[k] end\n");
  int steps = 0;
  while (b->n && steps++ < 40) {
    const char *dst = var_of(b), *x = var_of(b), *y = var_of(b);
    unsigned op = next(b) % 58;
    put(o, "pcall(function() %s = ", dst);
    switch (op) {
    case 0: put(o, "actrun.zeros(%s, %s)", size_of(b, s1), size_of(b, s2)); break;
    case 1: put(o, "actrun.randn(%s, %s, %s)", size_of(b, s1), size_of(b, s2), size_of(b, s3)); break;
    case 2: put(o, "actrun.full({%s, %s}, %s)", size_of(b, s1), size_of(b, s2), value_of(b, s3)); break;
    case 3: put(o, "actrun.range(%s, %s, %s)", value_of(b, s1), value_of(b, s2), value_of(b, s3)); break;
    case 4: put(o, "actrun.linspace(%s, %s, %s)", value_of(b, s1), value_of(b, s2), size_of(b, s3)); break;
    case 5: put(o, "actrun.eye(%s)", size_of(b, s1)); break;
    case 6: put(o, "T(%s) + T(%s)", x, y); break;
    case 7: put(o, "T(%s) * %s - T(%s)", x, value_of(b, s1), y); break;
    case 8: put(o, "T(%s) / T(%s)", x, y); break;
    case 9: put(o, "T(%s) ^ %s", x, value_of(b, s1)); break;
    case 10: put(o, "actrun.matmul(T(%s), T(%s))", x, y); break;
    case 11: put(o, "T(%s):sum(%s)", x, dim_of(b, s1)); break;
    case 12: put(o, "T(%s):mean(%s, true)", x, dim_of(b, s1)); break;
    case 13: put(o, "T(%s):max(%s)", x, dim_of(b, s1)); break;
    case 14: put(o, "T(%s):reshape(%s, %s)", x, size_of(b, s1), size_of(b, s2)); break;
    case 15: put(o, "T(%s):view(-1, %s)", x, size_of(b, s1)); break;
    case 16: put(o, "T(%s):transpose(%s, %s)", x, dim_of(b, s1), dim_of(b, s2)); break;
    case 17: put(o, "T(%s):narrow(%s, %s, %s)", x, dim_of(b, s1), size_of(b, s2), size_of(b, s3)); break;
    case 18: put(o, "T(%s):select(%s, %s)", x, dim_of(b, s1), size_of(b, s2)); break;
    case 19: put(o, "T(%s):unsqueeze(%s)", x, dim_of(b, s1)); break;
    case 20: put(o, "T(%s):squeeze(%s)", x, dim_of(b, s1)); break;
    case 21: put(o, "T(%s):expand(%s, %s, %s)", x, size_of(b, s1), size_of(b, s2), size_of(b, s3)); break;
    case 22: put(o, "actrun.cat({T(%s), T(%s)}, %s)", x, y, dim_of(b, s1)); break;
    case 23: put(o, "actrun.stack({T(%s), T(%s)}, %s)", x, y, dim_of(b, s1)); break;
    case 24: put(o, "T(%s):clone():fill(%s)", x, value_of(b, s1)); break;
    case 25: put(o, "T(%s):copy(T(%s))", x, y); break;
    case 26: put(o, "T(%s)[%s]", x, size_of(b, s1)); break;
    case 27: put(o, "T(%s):set(%s, %s, %s)", x, size_of(b, s1), size_of(b, s2), value_of(b, s3)); break;
    case 28: put(o, "T(%s):get(%s, %s)", x, size_of(b, s1), size_of(b, s2)); break;
    case 29: put(o, "T(%s):clamp(%s, %s):exp():log():sqrt()", x, value_of(b, s1), value_of(b, s2)); break;
    case 30: {
      static const char *acts[] = {"relu", "gelu", "selu", "softmax", "log_softmax", "mish",
                                   "swish", "elu", "hardtanh", "softplus", "prelu", "rrelu"};
      put(o, "act.%s(T(%s))", acts[next(b) % 12], x);
      break;
    }
    case 31: put(o, "T(%s):var(%s):std():norm(%s)", x, dim_of(b, s1), value_of(b, s2)); break;
    case 32: put(o, "T(%s):argmax(%s)", x, dim_of(b, s1)); break;
    case 33: /* autograd through whatever x is */
      put(o, "(function() local l = T(%s):clone(); l.requires_grad = true; "
             "local z = (l * l):sum(); z:backward(); return l.grad end)()", x);
      break;
    case 34: put(o, "nn.Linear(%s, %s)(T(%s))", size_of(b, s1), size_of(b, s2), x); break;
    case 35: put(o, "nn.cross_entropy(T(%s), T(%s))", x, y); break;
    case 36: put(o, "nn.mse(T(%s), T(%s))", x, y); break;
    case 37:
      put(o, "actrun.conv2d(T(%s), T(%s), nil, {stride = %s, padding = %s})", x, y, size_of(b, s1),
          size_of(b, s2));
      break;
    case 38: put(o, "actrun.max_pool2d(T(%s), %s, %s)", x, size_of(b, s1), size_of(b, s2)); break;
    case 39: put(o, "T(%s):sort(%s, %s)", x, dim_of(b, s1), next(b) & 1 ? "true" : "false"); break;
    case 40: put(o, "T(%s):topk(%s, %s, %s)", x, size_of(b, s1), dim_of(b, s2),
                 next(b) & 1 ? "true" : "nil"); break;
    case 41: put(o, "T(%s):gather(%s, T(%s))", x, dim_of(b, s1), y); break;
    case 42: put(o, "T(%s):index_select(%s, T(%s):flatten())", x, dim_of(b, s1), y); break;
    case 43: put(o, "actrun.where(T(%s), T(%s), %s)", x, y, value_of(b, s1)); break;
    case 44: put(o, "T(%s):cumsum(%s) + actrun.randperm(%s)", x, dim_of(b, s1), size_of(b, s2)); break;
    case 45: /* double backward through the index family */
      put(o, "(function() local l = T(%s):clone(); l.requires_grad = true; "
             "local v = l:sort(%s); local z = (v * v):sum() + (l:cumsum(1) ^ 2):sum(); "
             "local g = actrun.grad({z}, {l}, {create_graph = true})[1]; "
             "g:sum():backward(); return l.grad end)()", x, dim_of(b, s1));
      break;
    case 46:
      put(o, "T(%s):gt(T(%s)):eq(%s):flatten():contiguous():t()", x, y, value_of(b, s4));
      break;
    case 47: /* a write into a tensor, returned */
      put(o, "(function() local m = T(%s); ", x);
      write_into(b, o, "m", y);
      put(o, "return m end)()");
      break;
    case 48: /* a write while autograd records: into a leaf, a result, or a view of one */
    case 49: {
      static const char *into[] = {"l", "l * 2", "(l * 2):narrow(1, 1, 1)", "l:detach()",
                                   "(l + 0):t()", "l:select(1, 1)"};
      put(o, "(function() local l = T(%s):clone(); l.requires_grad = %s; local m = %s; ", x,
          bool_of(b), into[next(b) % 6]);
      write_into(b, o, "m", y);
      if (next(b) & 1) write_into(b, o, "m", x);
      put(o, "local z = (m * l):sum(); z:backward{create_graph = %s, retain_graph = %s}; ",
          bool_of(b), bool_of(b));
      if (next(b) & 1) put(o, "z:backward(); ");
      put(o, "return l.grad end)()");
      break;
    }
    case 50: /* the same under no_grad, as optimisers do */
      put(o, "(function() local l = T(%s):clone(); l.requires_grad = true; "
             "actrun.no_grad(function() ", x);
      write_into(b, o, "l", y);
      put(o, "end); local z = (l * l):sum(); z:backward(); return l.grad end)()");
      break;
    case 51: { /* actrun.grad with its options, through a write */
      put(o, "(function() local l = T(%s):clone(); l.requires_grad = true; local u = T(%s):clone(); "
             "u.requires_grad = %s; local m = l * u; ", x, y, bool_of(b));
      if (next(b) & 1) write_into(b, o, "m", y);
      put(o, "local z = m:sum(); return actrun.grad(%s, %s, {create_graph = %s, retain_graph = %s, "
             "allow_unused = %s%s})[1] end)()",
          next(b) & 1 ? "{z}" : "z", next(b) & 1 ? "{l, u}" : "l", bool_of(b), bool_of(b),
          bool_of(b), next(b) & 1 ? ", grad_outputs = {T(d)}" : "");
      break;
    }
    case 52: /* the autograd fields, given anything */
      switch (next(b) % 5) {
      case 0: put(o, "(function() local v = T(%s); v.requires_grad = %s; return v end)()", x, bool_of(b)); break;
      case 1: put(o, "(function() local v = T(%s); v.grad = %s; return v.grad end)()", x, self_of(b)); break;
      case 2: put(o, "(function() local v = T(%s); v.grad = T(%s); return v end)()", x, y); break;
      case 3: put(o, "T(%s):detach()", x); break;
      default: put(o, "(function() local v = T(%s); v:zero_grad(); return v.grad or v.is_leaf end)()", x); break;
      }
      break;
    case 53: /* a result of a write kept in a variable, with its graph */
      put(o, "(function() local l = T(%s):clone(); l.requires_grad = true; local m = l:exp(); ", x);
      write_into(b, o, "m", y);
      put(o, "return m end)()");
      break;
    case 54: /* backward of whatever a variable holds (kept graphs, written-into results) */
      put(o, "(function() %s:sum():backward{retain_graph = %s}; return %s end)()", x, bool_of(b), x);
      break;
    case 55: /* close a variable: later calls get a closed tensor */
      put(o, "(function() MT.__close(%s); return %s end)()", x, x);
      break;
    case 56: /* a metamethod or method with a self that is not a tensor */
      put(o, "M(%u)(%s, %s, %s)", next(b), self_of(b), self_of(b), size_of(b, s1));
      break;
    default: /* raw variables: a closed tensor or a list reaches the call unchanged */
      put(o, "%s + %s * %s:sum()", x, y, x);
      break;
    }
    put(o, " end)\n");
    put(o, "if actrun.is_tensor(%s) then local _ = tostring(%s) end\n", dst, dst);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static actrun *A;
  static int print = -1;
  if (print < 0) print = getenv("ACTRUN_FUZZ_PRINT") != NULL;
  if (!A) { /* one interpreter for the whole run: state must survive every error */
    A = actrun_new();
    if (!A) abort();
    actrun_run_string(A, "actrun.set_num_threads(1)");
  }
  bytes b = {data, size};
  buf o = {0};
  put(&o, "do\n");
  gen(&b, &o);
  put(&o, "end\ncollectgarbage()\n");
  if (print) {
    fputs(o.s, stdout);
    fflush(stdout);
  }
  if (actrun_run_string(A, o.s)) {
    /* every call is under pcall: an error here means the interpreter itself broke */
    fprintf(stderr, "unexpected error: %s\n", actrun_error(A));
    abort();
  }
  free(o.s);
  return 0;
}
