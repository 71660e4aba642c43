/* Shared by the file-reader harnesses: the readers take a path, so each input is written
 * to a private temporary file first. */
#ifndef ACTRUN_FUZZ_FILE_H
#define ACTRUN_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A path unique to this process, with the given suffix (the readers do not look at it). */
static const char *fuzz_path(const char *suffix) {
  static char path[256];
  if (!path[0]) {
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/actrun-fuzz-%ld%s", dir && *dir ? dir : "/tmp",
             (long)getpid(), suffix);
  }
  return path;
}

/* Writes data to the harness's file; aborts when the disk refuses (not a finding). */
static const char *fuzz_write(const uint8_t *data, size_t size, const char *suffix) {
  const char *p = fuzz_path(suffix);
  FILE *f = fopen(p, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
    perror(p);
    abort();
  }
  return p;
}

#endif
