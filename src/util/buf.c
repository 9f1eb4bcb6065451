/*
 * buf.c - the one growable byte buffer (see buf.h).
 */
#include "util/buf.h"

#include <string.h>

#include "util/alloc.h"
#include "util/base.h"

#define BUF_MIN_CAP ((size_t)256)

void pinset__buf_init(struct pinset__buf *b, size_t max, int wipe)
{
    memset(b, 0, sizeof(*b));
    /* max + 1 (the NUL) must not wrap */
    b->max = max < SIZE_MAX - 1 ? max : SIZE_MAX - 2;
    b->wipe = wipe;
}

pinset_err pinset__buf_reserve(struct pinset__buf *b, size_t n)
{
    size_t need, cap;
    uint8_t *p;

    if (n > b->max - b->len) {
        return PINSET_E_LIMIT;
    }
    need = b->len + n + 1;
    if (need <= b->cap) {
        return PINSET_OK;
    }
    /* double, so that appending byte by byte stays linear; never past max + 1 (>= need) */
    cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
    while (cap < need && cap <= (b->max + 1) / 2) {
        cap *= 2;
    }
    if (cap < need || cap > b->max + 1) {
        cap = b->max + 1;
    }
    if (b->wipe) {
        /* no realloc: the old storage is wiped, not left to the heap */
        p = pinset__alloc(cap);
        if (p == NULL) {
            return PINSET_E_NOMEM;
        }
        if (b->len > 0) {
            memcpy(p, b->p, b->len);
        }
        pinset__wipe_free(b->p, b->cap);
    } else {
        p = pinset__realloc_array(b->p, cap, 1);
        if (p == NULL) {
            return PINSET_E_NOMEM;
        }
    }
    b->p = p;
    b->cap = cap;
    b->p[b->len] = 0;
    return PINSET_OK;
}

pinset_err pinset__buf_append(struct pinset__buf *b, const void *data, size_t n)
{
    pinset_err err;

    if (n == 0) {
        return PINSET_OK;
    }
    err = pinset__buf_reserve(b, n);
    if (err != PINSET_OK) {
        return err;
    }
    memcpy(b->p + b->len, data, n);
    pinset__buf_commit(b, n);
    return PINSET_OK;
}

void pinset__buf_commit(struct pinset__buf *b, size_t n)
{
    PINSET_ASSERT(b->p != NULL && n < b->cap - b->len);
    b->len += n;
    b->p[b->len] = 0;
}

int pinset__buf_sink(const char *data, size_t len, void *payload)
{
    return pinset__buf_append(payload, data, len) == PINSET_OK ? 0 : 1;
}

void pinset__buf_reset(struct pinset__buf *b)
{
    b->len = 0;
    if (b->p != NULL) {
        b->p[0] = 0;
    }
}

void pinset__buf_free(struct pinset__buf *b)
{
    if (b == NULL) {
        return;
    }
    if (b->wipe) {
        pinset__wipe_free(b->p, b->cap);
    } else {
        pinset__free(b->p);
    }
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

pinset_err pinset__emit(pinset_write_fn write, void *payload, const char *s, size_t len)
{
    while (len > 0) {
        size_t k = len > 4096 ? 4096 : len;
        if (write(s, k, payload) != 0) {
            return PINSET_E_IO;
        }
        s += k;
        len -= k;
    }
    return PINSET_OK;
}
