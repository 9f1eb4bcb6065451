/*
 * read.c - the one bounded input reader (see read.h): stat before open,
 * O_NONBLOCK so that neither a FIFO without a writer nor a silent one can
 * hang us, the size bound checked before reading a regular file and again
 * while reading, and the time bound kept with poll() on a monotonic clock.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, fstat, O_CLOEXEC */

#include "util/read.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/base.h"
#include "util/diag.h"

#define READ_CHUNK ((size_t)64 * 1024)

int64_t pinset__mono_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is readable or the deadline passes: 1 readable, 0 timed out, -1 retry. */
static int wait_readable(int fd, int64_t deadline)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    int64_t left = deadline - pinset__mono_ms();
    int rc;

    if (left <= 0) {
        return 0;
    }
    rc = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
    if (rc < 0 && errno == EINTR) {
        return -1;
    }
    return rc != 0;
}

/*
 * Read fd to its end, at most max bytes. stream: a pipe or FIFO, under the
 * time bound. A blocking descriptor (standard input) waits in poll() before
 * every read; a non-blocking one reads first (an unconnected FIFO reads 0
 * at once) and polls on EAGAIN.
 */
static pinset_err read_all(struct pinset__buf *r, int fd, int stream, int blocking, size_t max,
                           long timeout_ms, pinset_diag *diag)
{
    int64_t deadline = pinset__mono_ms() + timeout_ms;

    for (;;) {
        ssize_t got;
        pinset_err err = pinset__buf_reserve(r, r->len < READ_CHUNK ? 1 : READ_CHUNK);

        if (err == PINSET_E_LIMIT) {
            err = pinset__buf_reserve(r, 1); /* the last bytes before the bound */
        }
        if (err == PINSET_E_NOMEM) {
            return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
        }
        if (err != PINSET_OK) {
            return PINSET_DIAG(diag, PINSET_E_LIMIT, "input exceeds the limit of %zu bytes", max);
        }
        if (stream && blocking) {
            int rc = wait_readable(fd, deadline);

            if (rc < 0) {
                continue;
            }
            if (rc == 0) {
                return PINSET_DIAG(diag, PINSET_E_IO, "no end of input within %ld ms", timeout_ms);
            }
        }
        got = read(fd, r->p + r->len, r->cap - r->len - 1);
        if (got > 0) {
            pinset__buf_commit(r, (size_t)got);
            if (r->len > max) {
                return PINSET_DIAG(diag, PINSET_E_LIMIT, "input exceeds the limit of %zu bytes",
                                   max);
            }
            continue;
        }
        if (got == 0) {
            return PINSET_OK;
        }
        if (errno == EINTR) {
            continue;
        }
        if (stream && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_readable(fd, deadline) == 0) {
                return PINSET_DIAG(diag, PINSET_E_IO, "no end of input within %ld ms", timeout_ms);
            }
            continue;
        }
        return PINSET_DIAG(diag, PINSET_E_IO, "read failed: %s", strerror(errno));
    }
}

static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m)) {
        return "a directory";
    }
    if (S_ISCHR(m)) {
        return "a character device";
    }
    if (S_ISBLK(m)) {
        return "a block device";
    }
    if (S_ISSOCK(m)) {
        return "a socket";
    }
    if (S_ISFIFO(m)) {
        return "a fifo";
    }
    return "not a regular file";
}

static pinset_err too_large(const struct stat *st, size_t max, pinset_diag *diag)
{
    return PINSET_DIAG(diag, PINSET_E_LIMIT, "file of %lld bytes exceeds the limit of %zu bytes",
                       (long long)st->st_size, max);
}

pinset_err pinset__read_path(struct pinset__buf *out, const char *path, size_t max, long timeout_ms,
                             unsigned flags, pinset_diag *diag)
{
    struct stat st, fst;
    pinset_err err;
    int fd;

    pinset__buf_init(out, max < SIZE_MAX / 2 ? max + 1 : SIZE_MAX / 2, 1);
    pinset__diag_input(diag, path);
    if (stat(path, &st) != 0) {
        return PINSET_DIAG(diag, PINSET_E_IO, "cannot open: %s", strerror(errno));
    }
    if (!S_ISREG(st.st_mode) && !(S_ISFIFO(st.st_mode) && (flags & PINSET__READ_FIFO) != 0)) {
        return PINSET_DIAG(diag, PINSET_E_IO, "not a regular file (%s)", file_kind(st.st_mode));
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > (uint64_t)max) {
        return too_large(&st, max, diag);
    }
    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        return PINSET_DIAG(diag, PINSET_E_IO, "cannot open: %s", strerror(errno));
    }
    /* the path may have changed between stat() and open() */
    if (fstat(fd, &fst) != 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino ||
        (fst.st_mode & S_IFMT) != (st.st_mode & S_IFMT)) {
        (void)close(fd);
        return PINSET_DIAG(diag, PINSET_E_IO, "file changed while opening");
    }
    /* one byte more than the size: a file that grows under us is read on to the bound */
    err = S_ISREG(st.st_mode) ? pinset__buf_reserve(out, (size_t)st.st_size + 1) : PINSET_OK;
    if (err == PINSET_OK) {
        err = read_all(out, fd, S_ISFIFO(st.st_mode), 0, max, timeout_ms, diag);
    } else {
        err = PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    (void)close(fd);
    return err;
}

pinset_err pinset__read_fd(struct pinset__buf *out, int fd, const char *name, size_t max,
                           long timeout_ms, pinset_diag *diag)
{
    struct stat st;

    pinset__buf_init(out, max < SIZE_MAX / 2 ? max + 1 : SIZE_MAX / 2, 1);
    pinset__diag_input(diag, name);
    if (fstat(fd, &st) != 0) {
        return PINSET_DIAG(diag, PINSET_E_IO, "%s", strerror(errno));
    }
    if (S_ISREG(st.st_mode)) {
        if ((uint64_t)st.st_size > (uint64_t)max) {
            return too_large(&st, max, diag);
        }
        if (pinset__buf_reserve(out, (size_t)st.st_size + 1) != PINSET_OK) {
            return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
        }
        return read_all(out, fd, 0, 0, max, timeout_ms, diag);
    }
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
        return read_all(out, fd, 1, 1, max, timeout_ms, diag);
    }
    return PINSET_DIAG(diag, PINSET_E_IO, "not a regular file or pipe (%s)", file_kind(st.st_mode));
}
