/*
 * fuzz_sink.h - a growable output buffer and its pinset_write_fn, for the
 * fuzz targets that write a policy and read it back.
 */
#ifndef PINSET_FUZZ_SINK_H
#define PINSET_FUZZ_SINK_H

#include <stdlib.h>
#include <string.h>

struct fuzz_sbuf {
    char *b;
    size_t n, cap;
};

static int fuzz_sink(const char *buf, size_t len, void *payload)
{
    struct fuzz_sbuf *s = payload;

    if (s->n + len > s->cap) {
        size_t ncap = (s->n + len) * 2;
        char *nb = realloc(s->b, ncap);
        if (nb == NULL) {
            return 1;
        }
        s->b = nb;
        s->cap = ncap;
    }
    memcpy(s->b + s->n, buf, len);
    s->n += len;
    return 0;
}

#endif /* PINSET_FUZZ_SINK_H */
