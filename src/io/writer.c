/* The one writer behind every whole file actrun saves (see io.h): it looks at the
 * destination before writing, writes a temporary file next to the real destination and
 * renames it over the destination when complete.
 *
 * Why each step:
 * - lstat/stat, never open, to look: opening a named pipe blocks until a reader comes.
 * - A device, pipe, socket or directory is refused: a rename would turn /dev/null into a
 *   regular file (as root) or replace a pipe someone reads from.
 * - A symbolic link is written through: the temporary goes next to the link's final
 *   target and replaces the target, so the link stays a link and the write stays atomic.
 * - A file the caller may not write (access W_OK) is refused, as cp or a shell redirect
 *   would; otherwise write permission on the directory would be enough to replace it.
 * - The temporary gets the old file's owner (best effort) and mode before it replaces it.
 * - The temporary is named after the destination, ".NAME.actrun-tmp-XXXXXX", and held
 *   with an flock while it is written. SIGTERM, SIGINT and SIGHUP during a write remove
 *   it; a temporary whose writer died without that (SIGKILL, a power cut) is no longer
 *   locked, and the next save of the same destination removes it. The lock, not a
 *   process id, decides: process ids are reused after a reboot, differ between
 *   containers and mean nothing on another host of a shared file system. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/io.h"

#define TMP_TAG ".actrun-tmp-"
#define TMP_RAND 6

struct io_writer {
  int fd;
  int slot; /* index in pending[], or -1 */
  int64_t written, fail_after;
  char *shown; /* the path as the caller gave it, for messages */
  char *dest;  /* the file replaced: shown, or the final target of a symbolic link */
  char *tmp;
};

/* ---------- signals: remove the temporaries of the writes in progress ---------- */

/* Temporaries being written, for the signal handler, which can use neither locks nor
 * malloc: a slot's path is filled before `used` is set, and cleared after. */
#define MAX_PENDING 16
static struct {
  atomic_int used;
  char path[PATH_MAX];
} pending[MAX_PENDING];

static const int caught[] = {SIGTERM, SIGINT, SIGHUP};
#define NCAUGHT (int)(sizeof caught / sizeof caught[0])
static struct sigaction previous[NCAUGHT]; /* the dispositions ours replaced */
static bool installed[NCAUGHT];
static int writers; /* writes in progress; handlers are installed while > 0 */
static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig, siginfo_t *info, void *uctx) {
  int saved = errno, k = 0;
  while (k < NCAUGHT && caught[k] != sig) k++;
  if (k == NCAUGHT) return;
  struct sigaction *p = &previous[k];
  if ((p->sa_flags & SA_SIGINFO) || (p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN)) {
    /* The program handles this signal itself (the actrun REPL's Ctrl-C interrupts the
     * script once the save returns): it decides, and the save completes or fails
     * normally. If its handler reset the disposition (a second Ctrl-C should kill),
     * that becomes what we fall back to, and ours goes back in front of it. */
    struct sigaction self, now;
    sigaction(sig, NULL, &self);
    if (p->sa_flags & SA_SIGINFO)
      p->sa_sigaction(sig, info, uctx);
    else
      p->sa_handler(sig);
    sigaction(sig, NULL, &now);
    if (now.sa_sigaction != self.sa_sigaction) {
      *p = now;
      sigaction(sig, &self, NULL);
    }
    errno = saved;
    return;
  }
  /* the process is about to die of the signal: unlink is async-signal-safe */
  for (int i = 0; i < MAX_PENDING; i++)
    if (atomic_load(&pending[i].used)) unlink(pending[i].path);
  /* die of the same signal, as without us: it is blocked while this handler runs and
   * delivered, with the old disposition, when it returns */
  sigaction(sig, p, NULL);
  raise(sig);
  errno = saved;
}

/* Registers tmp for the handler; returns its slot or -1 (all busy: the write proceeds,
 * and a signal leaves its temporary for the next save to remove). */
static int track(const char *tmp) {
  if (strlen(tmp) >= PATH_MAX) return -1;
  pthread_mutex_lock(&sig_mu);
  int slot = -1;
  for (int i = 0; i < MAX_PENDING && slot < 0; i++)
    if (!atomic_load(&pending[i].used)) slot = i;
  if (slot >= 0) {
    strcpy(pending[slot].path, tmp);
    atomic_store(&pending[slot].used, 1);
  }
  pthread_mutex_unlock(&sig_mu);
  return slot;
}

static void untrack(int slot) {
  if (slot < 0) return;
  pthread_mutex_lock(&sig_mu);
  atomic_store(&pending[slot].used, 0);
  pthread_mutex_unlock(&sig_mu);
}

static void handlers_acquire(void) {
  pthread_mutex_lock(&sig_mu);
  if (writers++ == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int k = 0; k < NCAUGHT; k++) {
      installed[k] = false;
      if (sigaction(caught[k], NULL, &previous[k]) != 0) continue;
      /* an ignored signal kills nobody: nothing to clean up, and it stays ignored */
      if (!(previous[k].sa_flags & SA_SIGINFO) && previous[k].sa_handler == SIG_IGN) continue;
      installed[k] = sigaction(caught[k], &sa, NULL) == 0;
    }
  }
  pthread_mutex_unlock(&sig_mu);
}

static void handlers_release(void) {
  pthread_mutex_lock(&sig_mu);
  if (--writers == 0)
    for (int k = 0; k < NCAUGHT; k++) {
      struct sigaction now;
      /* put back what was there, unless someone replaced ours meanwhile: theirs stays */
      if (installed[k] && sigaction(caught[k], NULL, &now) == 0 &&
          (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_signal)
        sigaction(caught[k], &previous[k], NULL);
      installed[k] = false;
    }
  pthread_mutex_unlock(&sig_mu);
}

/* ---------- the destination ---------- */

static const char *kind_name(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a named pipe";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "of an unknown kind";
}

/* Sets w->dest to the file to replace and *st to its status (*exists = false when it is
 * new), or sets an error. */
static int look(ar_ctx *C, io_writer *w, struct stat *st, bool *exists) {
  const char *path = w->shown;
  *exists = false;
  if (lstat(path, st) != 0) {
    if (errno != ENOENT)
      return ar_seterr(C, AR_EIO, "'%s': cannot look at it (%s; nothing written)", path,
                       strerror(errno));
    w->dest = strdup(path);
    return w->dest ? AR_OK : ar_seterr(C, AR_ENOMEM, "out of memory");
  }
  if (S_ISLNK(st->st_mode)) {
    w->dest = realpath(path, NULL); /* follows the whole chain, with the kernel's bound */
    if (!w->dest) {
      int e = errno;
      if (e == ENOMEM) return ar_seterr(C, AR_ENOMEM, "out of memory");
      if (e == ENOENT) {
        char target[PATH_MAX];
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        return ar_seterr(C, AR_EIO,
                         "'%s' is a symbolic link to '%s', which does not exist (nothing written)",
                         path, target);
      }
      return ar_seterr(C, AR_EIO, "'%s': cannot follow the symbolic link (%s; nothing written)",
                       path, strerror(e));
    }
    if (stat(w->dest, st) != 0)
      return ar_seterr(C, AR_EIO, "'%s': cannot look at its target '%s' (%s; nothing written)",
                       path, w->dest, strerror(errno));
  } else {
    w->dest = strdup(path);
    if (!w->dest) return ar_seterr(C, AR_ENOMEM, "out of memory");
  }
  if (!S_ISREG(st->st_mode)) {
    if (strcmp(w->dest, path) == 0)
      return ar_seterr(C, AR_EIO, "'%s' is %s, not a regular file (nothing written)", path,
                       kind_name(st->st_mode));
    return ar_seterr(C, AR_EIO,
                     "'%s' links to '%s', which is %s, not a regular file (nothing written)",
                     path, w->dest, kind_name(st->st_mode));
  }
  /* the effective ids decide, as for open(): what cp or "> file" would be allowed */
  if (faccessat(AT_FDCWD, w->dest, W_OK, AT_EACCESS) != 0) {
    if (errno == EACCES || errno == EPERM)
      return ar_seterr(C, AR_EIO, "'%s' is write-protected (nothing written)", path);
    if (errno == EROFS)
      return ar_seterr(C, AR_EIO, "'%s' is on a read-only file system (nothing written)", path);
  }
  *exists = true;
  return AR_OK;
}

/* dest split into its directory (a malloc'd string, "." for none) and the prefix of its
 * temporaries, ".NAME.actrun-tmp-" with NAME cut so that a temporary's name fits in
 * NAME_MAX (a longer name shares its prefix with others: harmless, see remove_stale). */
static int tmp_prefix(const char *dest, char **dir, char *prefix) {
  const char *slash = strrchr(dest, '/');
  const char *base = slash ? slash + 1 : dest;
  size_t dl = slash ? (size_t)(slash - dest) : 1;
  *dir = malloc(dl + 1);
  if (!*dir) return -1;
  if (slash)
    memcpy(*dir, dest, dl ? dl : 1); /* "/x": the directory is "/" */
  else
    memcpy(*dir, ".", 1);
  (*dir)[dl ? dl : 1] = 0;
  size_t bl = strlen(base), room = NAME_MAX - 1 - strlen(TMP_TAG) - TMP_RAND;
  if (bl > room) bl = room;
  prefix[0] = '.';
  memcpy(prefix + 1, base, bl);
  strcpy(prefix + 1 + bl, TMP_TAG);
  return 0;
}

/* Removes the temporaries of earlier writes of the same destination whose writers are
 * gone: a live writer holds its temporary's flock, a dead one's lock went with it. Only
 * files of the exact name pattern, regular, and the very file that was locked (the name
 * is checked again after locking). Best effort: a problem leaves the file. */
static void remove_stale(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  if (!d) return;
  int dfd = dirfd(d);
  size_t pl = strlen(prefix);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, prefix, pl) != 0 || strlen(e->d_name) != pl + TMP_RAND) continue;
    int fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == EACCES)
      fd = openat(dfd, e->d_name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat a, b;
    if (fstat(fd, &a) == 0 && S_ISREG(a.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
        fstatat(dfd, e->d_name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
      unlinkat(dfd, e->d_name, 0);
    close(fd);
  }
  closedir(d);
}

/* ---------- the writer ---------- */

static void writer_free(io_writer *w) {
  if (w->fd >= 0) close(w->fd);
  free(w->shown);
  free(w->dest);
  free(w->tmp);
  free(w);
}

int io_writer_open(ar_ctx *C, const char *path, io_writer **out) {
  *out = NULL;
  io_writer *w = calloc(1, sizeof *w);
  if (!w) return ar_seterr(C, AR_ENOMEM, "out of memory");
  w->fd = -1, w->slot = -1, w->fail_after = -1;
  w->shown = strdup(path);
  if (!w->shown) {
    writer_free(w);
    return ar_seterr(C, AR_ENOMEM, "out of memory");
  }
  struct stat st;
  bool exists;
  int rc = look(C, w, &st, &exists);
  if (rc) {
    writer_free(w);
    return rc;
  }
  char prefix[NAME_MAX + 1], *dir = NULL;
  if (tmp_prefix(w->dest, &dir, prefix) != 0 ||
      !(w->tmp = malloc(strlen(dir) + 1 + strlen(prefix) + TMP_RAND + 1))) {
    free(dir);
    writer_free(w);
    return ar_seterr(C, AR_ENOMEM, "out of memory");
  }
  remove_stale(dir, prefix);

  /* handlers first: from the moment the temporary exists a signal must remove it */
  handlers_acquire();
  static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40) ^
                  (uint64_t)(uintptr_t)w;
  int err = 0;
  for (int attempt = 0; attempt < 100 && w->fd < 0; attempt++) {
    uint32_t r[4];
    ar_philox(seed, (uint64_t)attempt, r);
    char *p = w->tmp + sprintf(w->tmp, "%s/%s", dir, prefix);
    for (int k = 0; k < TMP_RAND; k++) p[k] = al[(r[k % 4] >> (k * 5 % 27)) % 36];
    p[TMP_RAND] = 0;
    /* 0666 less the umask, what open() gives a new file; an old file's mode is set below */
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (w->fd < 0) {
      err = errno;
      if (err != EEXIST) break;
      continue;
    }
    w->slot = track(w->tmp);
    /* Locked: it is ours. EWOULDBLOCK: a cleaner (remove_stale) got it first between
     * open and flock and removes it; so does a link count of 0 after locking. A file
     * system without locks: cleaners cannot lock it either and leave it alone. */
    struct stat t;
    if ((flock(w->fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) ||
        (fstat(w->fd, &t) == 0 && t.st_nlink == 0)) {
      untrack(w->slot);
      w->slot = -1;
      close(w->fd);
      w->fd = -1;
      err = EEXIST;
    }
  }
  free(dir);
  if (w->fd < 0) {
    rc = ar_seterr(C, AR_EIO, "%s: cannot create a temporary file next to it (%s)", path,
                   strerror(err));
    handlers_release();
    writer_free(w);
    return rc;
  }
  if (exists) {
    /* the replacement keeps the old file's owner (only root or the owner may; best
     * effort, before the mode, since a change of owner clears set-id bits) and mode */
    if (st.st_uid != geteuid() || st.st_gid != getegid())
      if (fchown(w->fd, st.st_uid, st.st_gid) != 0) { /* not permitted: ours it is */ }
    if (fchmod(w->fd, st.st_mode & 07777) != 0) {
      rc = ar_seterr(C, AR_EIO, "%s: cannot give the new file the old one's mode (%s)", path,
                     strerror(errno));
      io_writer_abort(w);
      return rc;
    }
  }
  *out = w;
  return AR_OK;
}

void io_writer_fail_after(io_writer *w, int64_t bytes) { w->fail_after = bytes; }

int io_writer_write(ar_ctx *C, io_writer *w, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    size_t m = n;
    if (w->fail_after >= 0 && w->written + (int64_t)m > w->fail_after) {
      m = (size_t)(w->fail_after - w->written);
      if (m == 0) {
        errno = ENOSPC;
        return ar_seterr(C, AR_EIO, "%s: write failed (%s)", w->shown, strerror(errno));
      }
    }
    ssize_t r = write(w->fd, c, m);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ar_seterr(C, AR_EIO, "%s: write failed (%s)", w->shown, strerror(errno));
    }
    c += r, n -= (size_t)r, w->written += r;
  }
  return AR_OK;
}

void io_writer_abort(io_writer *w) {
  if (!w) return;
  if (w->fd >= 0) close(w->fd);
  w->fd = -1;
  unlink(w->tmp);
  untrack(w->slot);
  handlers_release();
  writer_free(w);
}

int io_writer_commit(ar_ctx *C, io_writer *w) {
  int rc = AR_OK;
  /* on disk before the rename makes it the file: a crash after the rename must not find
   * the new name with data still in the page cache only (EINVAL: a file system without
   * fsync, such as some pipes-backed mounts, has nothing to flush) */
  if (fsync(w->fd) != 0 && errno != EINVAL) {
    rc = ar_seterr(C, AR_EIO, "%s: write failed (%s)", w->shown, strerror(errno));
    io_writer_abort(w);
    return rc;
  }
  int fd = w->fd;
  w->fd = -1;
  if (close(fd) != 0) {
    rc = ar_seterr(C, AR_EIO, "%s: write failed (%s)", w->shown, strerror(errno));
    io_writer_abort(w);
    return rc;
  }
  if (rename(w->tmp, w->dest) != 0) {
    rc = ar_seterr(C, AR_EIO, "%s: cannot replace it (%s)", w->shown, strerror(errno));
    io_writer_abort(w);
    return rc;
  }
  /* the rename itself durable: the directory's entry on disk (best effort) */
  const char *slash = strrchr(w->dest, '/');
  char *dir = slash ? strndup(w->dest, slash == w->dest ? 1 : (size_t)(slash - w->dest)) : NULL;
  int dfd = open(slash ? (dir ? dir : "") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    if (fsync(dfd) != 0) { /* some file systems refuse fsync on a directory: nothing lost */ }
    close(dfd);
  }
  free(dir);
  untrack(w->slot);
  handlers_release();
  writer_free(w);
  return AR_OK;
}

int io_write_file(ar_ctx *C, const char *path, const void *const *chunks, const size_t *lens,
                  size_t n) {
  io_writer *w;
  int rc = io_writer_open(C, path, &w);
  if (rc) return rc;
  for (size_t i = 0; i < n; i++)
    if ((rc = io_writer_write(C, w, chunks[i], lens[i]))) {
      io_writer_abort(w);
      return rc;
    }
  return io_writer_commit(C, w);
}
