/*
 * outfile.c - atomic result files: a temporary in the same directory, then rename (outfile.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "out.h"

static void release(outfile *o)
{
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

    memset(o, 0, sizeof(*o));
    if (len == 0 || path[len - 1] == '/') {
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
    fd = mkstemp(o->tmp); /* FILE.XXXXXX: the same directory, hence the same file system */
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
    } else if (fsync(fd) != 0 || fchmod(fd, 0644) != 0) {
        e = errno;
    }
    if (fclose(o->f) != 0 && e == 0) {
        e = errno != 0 ? errno : EIO;
    }
    o->f = NULL;
    if (e == 0 && rename(o->tmp, o->path) != 0) {
        e = errno;
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
