/*
 * state.c - the directory store of CT positions (see state.h).
 */
#define _GNU_SOURCE /* mkostemp (O_CLOEXEC); fsync, mkdir, open */

#include "ct/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/base.h"
#include "util/hex.h"

#define POS_MAX CT_POSITION_TEXT_MAX

typedef struct dir_store {
    ct_store base;
    char *dir;
} dir_store;

int ct_position_format(char *buf, size_t cap, const ct_position *pos)
{
    char h[2 * CT_HASH_LEN + 1];
    size_t off;
    int w;

    pinset__hex_encode(h, pos->sth_root, CT_HASH_LEN);
    w = snprintf(buf, cap,
                 "pinset-ct-position 1\nsth_size %llu\nsth_timestamp %llu\nsth_root %s\n"
                 "entries %llu\n",
                 (unsigned long long)pos->sth_size, (unsigned long long)pos->sth_timestamp, h,
                 (unsigned long long)pos->range.size);
    if (w < 0 || (size_t)w >= cap) {
        return -1;
    }
    off = (size_t)w;
    for (unsigned int i = 0; i < pos->range.count; i++) {
        pinset__hex_encode(h, pos->range.hash[i], CT_HASH_LEN);
        w = snprintf(buf + off, cap - off, "range %s\n", h);
        if (w < 0 || (size_t)w >= cap - off) {
            return -1;
        }
        off += (size_t)w;
    }
    if (!pos->have_verified) {
        return 0;
    }
    w = snprintf(buf + off, cap - off, "verified %llu\n", (unsigned long long)pos->verified.size);
    if (w < 0 || (size_t)w >= cap - off) {
        return -1;
    }
    off += (size_t)w;
    for (unsigned int i = 0; i < pos->verified.count; i++) {
        pinset__hex_encode(h, pos->verified.hash[i], CT_HASH_LEN);
        w = snprintf(buf + off, cap - off, "vrange %s\n", h);
        if (w < 0 || (size_t)w >= cap - off) {
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

/* One "key value" line; *p moves past it. */
static int line(const char **p, const char *end, const char *key, const char **val, size_t *val_len)
{
    size_t klen = strlen(key);
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));

    if (nl == NULL || (size_t)(nl - *p) <= klen || memcmp(*p, key, klen) != 0 ||
        (*p)[klen] != ' ') {
        return -1;
    }
    *val = *p + klen + 1;
    *val_len = (size_t)(nl - *val);
    *p = nl + 1;
    return 0;
}

static int number(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 20 || (n > 1 && s[0] == '0')) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10) {
            return -1;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int ct_position_parse(ct_position *out, const char *text, size_t len)
{
    const char *p = text, *end = text + len, *v;
    size_t n;

    memset(out, 0, sizeof(*out));
    if (line(&p, end, "pinset-ct-position", &v, &n) != 0 || n != 1 || v[0] != '1' ||
        line(&p, end, "sth_size", &v, &n) != 0 || number(v, n, &out->sth_size) != 0 ||
        line(&p, end, "sth_timestamp", &v, &n) != 0 || number(v, n, &out->sth_timestamp) != 0 ||
        line(&p, end, "sth_root", &v, &n) != 0 || n != 2 * CT_HASH_LEN ||
        pinset__hex_decode(out->sth_root, v, CT_HASH_LEN, 1) != 0 ||
        line(&p, end, "entries", &v, &n) != 0 || number(v, n, &out->range.size) != 0) {
        return -1;
    }
    while (p < end && (size_t)(end - p) > 6 && memcmp(p, "range ", 6) == 0) {
        if (out->range.count >= CT_MAX_DEPTH || line(&p, end, "range", &v, &n) != 0 ||
            n != 2 * CT_HASH_LEN ||
            pinset__hex_decode(out->range.hash[out->range.count], v, CT_HASH_LEN, 1) != 0) {
            return -1;
        }
        out->range.count++;
    }
    if (p < end) { /* the verified tree's edge: "verified N", then its "vrange" lines */
        if (line(&p, end, "verified", &v, &n) != 0 || number(v, n, &out->verified.size) != 0) {
            return -1;
        }
        out->have_verified = 1;
        while (p < end) {
            if (out->verified.count >= CT_MAX_DEPTH || line(&p, end, "vrange", &v, &n) != 0 ||
                n != 2 * CT_HASH_LEN ||
                pinset__hex_decode(out->verified.hash[out->verified.count], v, CT_HASH_LEN, 1) !=
                    0) {
                return -1;
            }
            out->verified.count++;
        }
        if (!ct_range_valid(&out->verified) || out->verified.size > out->range.size) {
            return -1;
        }
    }
    return ct_range_valid(&out->range) && out->range.size <= out->sth_size ? 0 : -1;
}

static char *path_of(const dir_store *d, const uint8_t log_id[CT_HASH_LEN])
{
    char h[2 * CT_HASH_LEN + 1];
    size_t n = strlen(d->dir) + sizeof(h) + 16;
    char *p = malloc(n);

    if (p != NULL) {
        pinset__hex_encode(h, log_id, CT_HASH_LEN);
        snprintf(p, n, "%s/%s.ctpos", d->dir, h);
    }
    return p;
}

static int dir_load(ct_store *s, const uint8_t log_id[CT_HASH_LEN], ct_position *out, char *err,
                    size_t errcap)
{
    dir_store *d = (dir_store *)s;
    char *path = path_of(d, log_id), buf[POS_MAX];
    size_t n = 0;
    FILE *f;
    int rc = -1;

    if (path == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT) {
            rc = 0;
        } else {
            snprintf(err, errcap, "%s: %s", path, strerror(errno));
        }
        goto out;
    }
    n = fread(buf, 1, sizeof(buf), f);
    if (ferror(f) || n == sizeof(buf) || ct_position_parse(out, buf, n) != 0) {
        snprintf(err, errcap, "%s: not a CT position written by pinset (or damaged)", path);
    } else {
        rc = 1;
    }
    fclose(f);
out:
    free(path);
    return rc;
}

static int dir_save(ct_store *s, const uint8_t log_id[CT_HASH_LEN], const ct_position *pos,
                    char *err, size_t errcap)
{
    dir_store *d = (dir_store *)s;
    char *path = path_of(d, log_id), *tmp = NULL, buf[POS_MAX];
    size_t len;
    int fd = -1, dfd = -1, rc = -1;

    if (path == NULL || (tmp = malloc(strlen(path) + 8)) == NULL) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    snprintf(tmp, strlen(path) + 8, "%s.XXXXXX", path);
    if (ct_position_format(buf, sizeof(buf), pos) != 0) {
        snprintf(err, errcap, "cannot format the position");
        goto out;
    }
    len = strlen(buf);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errcap, "%s: cannot create a temporary: %s", d->dir, strerror(errno));
        goto out;
    }
    if (write(fd, buf, len) != (ssize_t)len || fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        snprintf(err, errcap, "%s: cannot write: %s", tmp, strerror(errno));
        (void)unlink(tmp);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, errcap, "%s: cannot rename into place: %s", path, strerror(errno));
        (void)unlink(tmp);
        goto out;
    }
    /* The rename is durable only once the directory is. */
    dfd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        snprintf(err, errcap, "%s: cannot fsync the directory: %s", d->dir, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
    }
    if (dfd >= 0) {
        close(dfd);
    }
    free(tmp);
    free(path);
    return rc;
}

static void dir_free(ct_store *s)
{
    dir_store *d = (dir_store *)s;

    if (d != NULL) {
        free(d->dir);
        free(d);
    }
}

int ct_store_dir_open(ct_store **out, const char *dir, char *err, size_t errcap)
{
    dir_store *d;
    struct stat st;

    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errcap, "%s: cannot create the state directory: %s", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "%s: not a directory", dir);
        return -1;
    }
    d = calloc(1, sizeof(*d));
    if (d == NULL || (d->dir = strdup(dir)) == NULL) {
        free(d);
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    d->base.load = dir_load;
    d->base.save = dir_save;
    d->base.free = dir_free;
    *out = &d->base;
    return 0;
}
