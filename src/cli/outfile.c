/*
 * outfile.c - atomic result files: a temporary in the same directory, then rename (outfile.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "out.h"

/*
 * The temporary of the outfile being written, for the signal handlers: a run
 * ended by SIGINT, SIGTERM or SIGHUP (a timeout, Ctrl-C) must not leave it in
 * the collector's directory. One outfile at a time: the tool writes one result.
 */
static char g_tmp[PATH_MAX];
static volatile sig_atomic_t g_armed;
static const int g_signals[] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction g_saved[sizeof(g_signals) / sizeof(g_signals[0])];

/* Async-signal-safe: unlink, sigaction and raise only. */
static void on_signal(int sig)
{
    if (g_armed) {
        (void)unlink(g_tmp);
    }
    /* then what was there before: a command's own clean-up handler, or the default action */
    for (size_t i = 0; i < sizeof(g_signals) / sizeof(g_signals[0]); i++) {
        if (g_signals[i] == sig) {
            (void)sigaction(sig, &g_saved[i], NULL);
        }
    }
    (void)raise(sig); /* delivered when this handler returns: the caller sees it */
}

static void arm(const char *tmp)
{
    struct sigaction sa;
    size_t len = strlen(tmp);

    if (len >= sizeof(g_tmp)) {
        return; /* mkstemp would have refused a longer path; nothing to clean by name */
    }
    memcpy(g_tmp, tmp, len + 1);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(g_signals) / sizeof(g_signals[0]); i++) {
        (void)sigaction(g_signals[i], &sa, &g_saved[i]);
        if (g_saved[i].sa_handler == SIG_IGN) {
            (void)sigaction(g_signals[i], &g_saved[i], NULL); /* ignored stays ignored (nohup) */
        }
    }
    g_armed = 1;
}

static void disarm(void)
{
    if (!g_armed) {
        return;
    }
    /* handlers back first: a signal in between still finds the temporary armed */
    for (size_t i = 0; i < sizeof(g_signals) / sizeof(g_signals[0]); i++) {
        (void)sigaction(g_signals[i], &g_saved[i], NULL);
    }
    g_armed = 0;
}

/* After the rename: make the directory entry durable too (best effort). */
static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    int fd;

    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else if ((size_t)(slash - path) < sizeof(dir)) {
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    } else {
        return;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static void release(outfile *o)
{
    disarm();
    free(o->tmp);
    free(o->path);
    o->f = NULL;
    o->tmp = NULL;
    o->path = NULL;
}

static void fail(char *err, size_t cap, const char *what, const char *path, int e)
{
    char name[256];

    out_safe_copy(name, sizeof(name), path);
    snprintf(err, cap, "%s %s: %s", what, name, strerror(e));
}

int outfile_open(outfile *o, const char *path, char *err, size_t errcap)
{
    static const char suffix[] = ".XXXXXX";
    size_t len = strlen(path);
    int fd;

    struct stat sb;
    sigset_t block, old;

    memset(o, 0, sizeof(*o));
    if (len == 0 || path[len - 1] == '/' || (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))) {
        snprintf(err, errcap, "--output needs a file name, not a directory");
        return -1;
    }
    o->path = strdup(path);
    o->tmp = malloc(len + sizeof(suffix));
    if (o->path == NULL || o->tmp == NULL) {
        release(o);
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    memcpy(o->tmp, path, len);
    memcpy(o->tmp + len, suffix, sizeof(suffix));
    /* no signal between creating the temporary and arming its removal */
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof(g_signals) / sizeof(g_signals[0]); i++) {
        sigaddset(&block, g_signals[i]);
    }
    sigprocmask(SIG_BLOCK, &block, &old);
    fd = mkstemp(o->tmp); /* FILE.XXXXXX: the same directory, hence the same file system */
    if (fd >= 0) {
        arm(o->tmp);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (fd < 0) {
        fail(err, errcap, "cannot create a temporary file for", path, errno);
        release(o);
        return -1;
    }
    o->f = fdopen(fd, "w");
    if (o->f == NULL) {
        fail(err, errcap, "cannot write", o->tmp, errno);
        close(fd);
        unlink(o->tmp);
        release(o);
        return -1;
    }
    return 0;
}

int outfile_commit(outfile *o, char *err, size_t errcap)
{
    int fd, e = 0;

    if (o->f == NULL) {
        snprintf(err, errcap, "no output file open");
        return -1;
    }
    fd = fileno(o->f);
    errno = 0;
    if (fflush(o->f) != 0 || ferror(o->f)) {
        e = errno != 0 ? errno : EIO;
    } else if (fsync(fd) != 0 ||
               fchmod(fd, (o->mode & OUTFILE_MODE_SET) ? (mode_t)(o->mode & 07777) : 0644) != 0) {
        e = errno;
    }
    if (fclose(o->f) != 0 && e == 0) {
        e = errno != 0 ? errno : EIO;
    }
    o->f = NULL;
    if (e == 0 && rename(o->tmp, o->path) != 0) {
        e = errno;
    }
    if (e == 0) {
        disarm(); /* the temporary's name is FILE's now: nothing to remove on a signal */
        sync_dir(o->path);
    }
    if (e != 0) {
        fail(err, errcap, "cannot write", o->path, e);
        unlink(o->tmp);
        release(o);
        return -1;
    }
    release(o);
    return 0;
}

void outfile_abort(outfile *o)
{
    if (o->f != NULL) {
        fclose(o->f);
        o->f = NULL;
    }
    if (o->tmp != NULL) {
        unlink(o->tmp);
    }
    release(o);
}
