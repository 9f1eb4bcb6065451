/*
 * buf.h - the one growable byte buffer: bounded by a maximum fixed when it
 * is initialised [curl dynbuf], optionally wiping every copy it leaves
 * behind (for inputs that may hold keys), and always NUL-terminated after
 * its content so that text can be handed on as a C string.
 * Internal; not installed.
 */
#ifndef PINSET_UTIL_BUF_H
#define PINSET_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include <pinset/common.h>
#include <pinset/error.h>

struct pinset__buf {
    uint8_t *p; /* NULL until the first byte; then p[len] == 0 */
    size_t len; /* bytes of content */
    size_t cap; /* bytes allocated, at most max + 1 */
    size_t max; /* the most content the buffer will ever hold */
    int wipe;   /* wipe storage when it is released (secrets) */
};

/* An empty buffer that will hold at most max bytes; wipe: 1 for secrets. */
void pinset__buf_init(struct pinset__buf *b, size_t max, int wipe);

/*
 * Make room for n more bytes of content (and the NUL after it).
 * Returns PINSET_OK, PINSET_E_LIMIT (past max; the buffer is unchanged) or
 * PINSET_E_NOMEM.
 */
pinset_err pinset__buf_reserve(struct pinset__buf *b, size_t n);

/* Append n bytes; as pinset__buf_reserve. */
pinset_err pinset__buf_append(struct pinset__buf *b, const void *data, size_t n);

/* Account for n bytes written into the reserved room at p + len. */
void pinset__buf_commit(struct pinset__buf *b, size_t n);

/* A pinset_write_fn sink that appends to the buffer given as payload (0 ok, 1 refused). */
int pinset__buf_sink(const char *data, size_t len, void *payload);

/* Empty the buffer but keep its storage for the next content (not wiped: not for secrets). */
void pinset__buf_reset(struct pinset__buf *b);

/* Release the storage (wiped first if asked) and leave the buffer empty; NULL is a no-op. */
void pinset__buf_free(struct pinset__buf *b);

/* Send len octets of s to a sink in chunks of at most 4096; PINSET_E_IO when it refuses one. */
pinset_err pinset__emit(pinset_write_fn write, void *payload, const char *s, size_t len);

#endif /* PINSET_UTIL_BUF_H */
