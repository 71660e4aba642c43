/* Small helpers shared by the C benchmarks: a monotonic clock, medians, and the result
 * lines every benchmark prints.
 *
 * Output format (read by bench/run_all.sh, and meant to be readable as it is):
 *   # free text                       comments: context, settings, notes
 *   KEY VALUE UNIT                    one measured number (a median), e.g.
 *   stream.triad.1t 47.10 GB/s
 */
#ifndef ACTRUN_BENCH_UTIL_H
#define ACTRUN_BENCH_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void bench_sleep(double seconds)
{
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int bench_cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of n values (sorts a copy; n <= 1024). */
static inline double bench_median(const double *v, int n)
{
  double s[1024];
  if (n > 1024) n = 1024;
  if (n <= 0) return 0;
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, bench_cmp_double);
  return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

static inline double bench_min(const double *v, int n)
{
  double m = v[0];
  for (int i = 1; i < n; i++)
    if (v[i] < m) m = v[i];
  return m;
}

/* Prints "KEY VALUE UNIT"; the key is built printf-style. */
static inline void bench_result(double value, const char *unit, const char *keyfmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void bench_result(double value, const char *unit, const char *keyfmt, ...)
{
  char key[160];
  va_list ap;
  va_start(ap, keyfmt);
  vsnprintf(key, sizeof key, keyfmt, ap);
  va_end(ap);
  printf("%-34s %10.4f %s\n", key, value, unit);
  fflush(stdout);
}

static inline void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void bench_note(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("# ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  fflush(stdout);
}

/* Integer option "--name=value" or "--name value" from argv, else def. */
static inline long bench_opt(int argc, char **argv, const char *name, long def)
{
  size_t n = strlen(name);
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], name, n) != 0) continue;
    if (argv[i][n] == '=') return strtol(argv[i] + n + 1, NULL, 10);
    if (argv[i][n] == '\0' && i + 1 < argc) return strtol(argv[i + 1], NULL, 10);
  }
  return def;
}

static inline int bench_flag(int argc, char **argv, const char *name)
{
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], name) == 0) return 1;
  return 0;
}

#endif
