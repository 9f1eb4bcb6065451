/*
 * curl_report_state.c - the reporter's memory (include/pinset/reporter.h):
 * deduplication keys of reports, the state file that keeps them across
 * restarts, and the JSON-lines sink.
 *
 * The state file is JSON, {"version": 1, "sent": [["<64 hex>", <seconds>], ...]},
 * written atomically (temporary file, fsync, rename, fsync of the directory).
 * It is read with a size bound and checked strictly: anything unexpected and
 * the whole file is ignored, so a corrupt or hostile file costs at most one
 * storm of reports, never a crash. A time far in the future is ignored too:
 * it would silence a report for longer than the window.
 *
 * libpinset-curl uses libpinset's public API only: plain malloc here.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "curl_report_int.h"
#include "util/hex.h"

int pinset__report_key(uint8_t out[32], const json_t *doc)
{
    static const char *const fields[] = {"hostname",       "port",
                                         "noted-hostname", "validated-certificate-chain",
                                         "known-pins",     "pinset-verdict"};
    json_t *a = json_array();
    char *text = NULL;
    unsigned int n = 0;
    int rc = -1;

    if (a == NULL || !json_is_object(doc)) {
        goto out;
    }
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_t *v = json_object_get(doc, fields[i]);

        if (json_array_append_new(a, v != NULL ? json_incref(v) : json_null()) != 0) {
            goto out;
        }
    }
    /* one canonical text of the six values: compact, keys sorted */
    text = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (text == NULL) {
        goto out;
    }
    if (EVP_Digest(text, strlen(text), out, &n, EVP_sha256(), NULL) == 1 && n == 32) {
        rc = 0;
    }
out:
    free(text);
    json_decref(a);
    return rc;
}

int pinset__dedup_init(struct report_dedup *d, int64_t window)
{
    d->e = calloc(REPORT_DEDUP_MAX, sizeof(*d->e));
    d->n = 0;
    d->window = window;
    return d->e == NULL ? -1 : 0;
}

void pinset__dedup_free(struct report_dedup *d)
{
    free(d->e);
    d->e = NULL;
    d->n = 0;
}

static int live(const struct report_dedup *d, const struct report_key_entry *e, int64_t now)
{
    return e->at > now - d->window && e->at <= now + REPORT_STATE_SKEW;
}

struct report_key_entry *pinset__dedup_find(struct report_dedup *d, const uint8_t key[32],
                                            int64_t now)
{
    for (size_t i = 0; i < d->n; i++) {
        if (memcmp(d->e[i].key, key, 32) == 0) {
            /* a queued (unsent) key is alive however old: its report is still in the queue */
            return !d->e[i].sent || live(d, &d->e[i], now) ? &d->e[i] : NULL;
        }
    }
    return NULL;
}

static void drop_at(struct report_dedup *d, size_t i)
{
    memmove(&d->e[i], &d->e[i + 1], (d->n - i - 1) * sizeof(d->e[0]));
    d->n--;
}

struct report_key_entry *pinset__dedup_add(struct report_dedup *d, const uint8_t key[32],
                                           int64_t now, int sent)
{
    struct report_key_entry *e;

    pinset__dedup_remove(d, key);
    /* forget sent keys past the window first, then the oldest entry */
    for (size_t i = d->n; i > 0; i--) {
        if (d->e[i - 1].sent && !live(d, &d->e[i - 1], now)) {
            drop_at(d, i - 1);
        }
    }
    if (d->n == REPORT_DEDUP_MAX) {
        drop_at(d, 0);
    }
    e = &d->e[d->n++];
    memcpy(e->key, key, 32);
    e->at = now;
    e->sent = sent;
    return e;
}

void pinset__dedup_remove(struct report_dedup *d, const uint8_t key[32])
{
    for (size_t i = 0; i < d->n; i++) {
        if (memcmp(d->e[i].key, key, 32) == 0) {
            drop_at(d, i);
            return;
        }
    }
}

/*
 * The whole file into a NUL-terminated buffer, if a regular file of at most
 * `max` octets, ours and written by nobody else: keys planted by another
 * user would silence the reports they name.
 */
static char *read_bounded(const char *path, size_t max, size_t *len_out)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

    if (fd < 0) {
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 || st.st_size < 0 ||
        (unsigned long long)st.st_size > max) {
        goto fail;
    }
    buf = malloc(max + 1);
    if (buf == NULL) {
        goto fail;
    }
    /* the size may change under us: read at most max + 1 octets and refuse more than max */
    while (len <= max) {
        ssize_t r = read(fd, buf + len, max + 1 - len);

        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            goto fail;
        }
        if (r == 0) {
            break;
        }
        len += (size_t)r;
    }
    if (len > max) {
        goto fail;
    }
    close(fd);
    buf[len] = '\0';
    *len_out = len;
    return buf;
fail:
    free(buf);
    close(fd);
    return NULL;
}

static int unhex(uint8_t out[32], const char *s, size_t len)
{
    return len == 64 ? pinset__hex_decode(out, s, 32, 1) : -1;
}

/* The "sent" array into d; -1 on the first thing that is not as written. */
static int load_sent(struct report_dedup *d, const json_t *sent, int64_t now)
{
    size_t i;
    json_t *pair;

    if (!json_is_array(sent) || json_array_size(sent) > REPORT_DEDUP_MAX) {
        return -1;
    }
    json_array_foreach(sent, i, pair)
    {
        const json_t *k = json_array_get(pair, 0), *t = json_array_get(pair, 1);
        struct report_key_entry e = {.sent = 1};

        if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_string(k) ||
            !json_is_integer(t) || unhex(e.key, json_string_value(k), json_string_length(k)) != 0) {
            return -1;
        }
        e.at = (int64_t)json_integer_value(t);
        if (live(d, &e, now) && pinset__dedup_find(d, e.key, now) == NULL) {
            d->e[d->n++] = e;
        }
    }
    return 0;
}

int pinset__dedup_parse(struct report_dedup *d, const char *buf, size_t len, int64_t now)
{
    json_t *doc, *v;
    int rc = -1;

    d->n = 0;
    if (len > REPORT_STATE_MAX) {
        return -1;
    }
    doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
    v = json_object_get(doc, "version");
    if (json_is_object(doc) && json_object_size(doc) == 2 && json_is_integer(v) &&
        json_integer_value(v) == 1) {
        rc = load_sent(d, json_object_get(doc, "sent"), now);
    }
    json_decref(doc);
    if (rc != 0) {
        d->n = 0;
    }
    return rc;
}

int pinset__dedup_load(struct report_dedup *d, const char *path, int64_t now)
{
    size_t len = 0;
    char *buf = read_bounded(path, REPORT_STATE_MAX, &len);
    int rc;

    d->n = 0;
    if (buf == NULL) {
        return -1;
    }
    rc = pinset__dedup_parse(d, buf, len, now);
    free(buf);
    return rc;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

static char *state_text(const struct report_dedup *d, int64_t now)
{
    json_t *sent = json_array(), *doc;
    char *text;

    for (size_t i = 0; sent != NULL && i < d->n; i++) {
        char k[65];

        if (!d->e[i].sent || !live(d, &d->e[i], now)) {
            continue;
        }
        pinset__hex_encode(k, d->e[i].key, 32);
        if (json_array_append_new(sent, json_pack("[s, I]", k, (json_int_t)d->e[i].at)) != 0) {
            json_decref(sent);
            return NULL;
        }
    }
    doc = json_pack("{s:i, s:o}", "version", 1, "sent", sent);
    if (doc == NULL) {
        return NULL;
    }
    text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return text;
}

/* fsync the directory holding path, so that the rename itself is durable. */
static int sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd, rc;

    if (slash == NULL) {
        dir = strdup(".");
    } else if (slash == path) {
        dir = strdup("/");
    } else {
        dir = strndup(path, (size_t)(slash - path));
    }
    if (dir == NULL) {
        return -1;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0) {
        return -1;
    }
    rc = fsync(fd);
    close(fd);
    return rc == 0 ? 0 : -1;
}

int pinset__dedup_save(const struct report_dedup *d, const char *path, int64_t now)
{
    char *text = state_text(d, now), *tmp = NULL;
    size_t plen = strlen(path);
    int fd = -1, rc = -1;

    if (text == NULL) {
        return -1;
    }
    tmp = malloc(plen + sizeof(".tmp.XXXXXX"));
    if (tmp == NULL) {
        goto out;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
    fd = mkstemp(tmp);
    if (fd < 0) {
        goto out;
    }
    if (write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0) {
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        goto out;
    }
    free(tmp);
    tmp = NULL;
    rc = sync_dir(path);
out:
    if (fd >= 0) {
        close(fd);
    }
    if (tmp != NULL) {
        (void)unlink(tmp);
    }
    free(tmp);
    free(text);
    return rc;
}

int pinset__jsonl_append(int fd, const char *json, size_t len)
{
    char *line;
    ssize_t w;

    if (len == 0 || memchr(json, '\n', len) != NULL || memchr(json, '\r', len) != NULL) {
        return -1;
    }
    line = malloc(len + 1);
    if (line == NULL) {
        return -1;
    }
    memcpy(line, json, len);
    line[len] = '\n';
    /*
     * One write(2) with O_APPEND: the offset and the write are one atomic
     * step for a regular file, so lines of several writers never interleave.
     * A short write is not retried (the rest would land after another
     * writer's line): the line is counted as not written.
     */
    do {
        w = write(fd, line, len + 1);
    } while (w < 0 && errno == EINTR);
    free(line);
    return w == (ssize_t)(len + 1) ? 0 : -1;
}
