/*
 * cursor.h - the one bounds-checked read cursor every parser in src/lib and
 * src/util uses (STYLE.md §7, after s2n's stuffer). A cursor borrows a byte span and
 * never reads outside it: every read either succeeds completely or fails
 * and leaves the cursor unchanged. Its functions are inline: the DER walks
 * call them for every byte of every certificate (a CT log has billions).
 * Internal; not installed.
 */
#ifndef PINSET_CURSOR_H
#define PINSET_CURSOR_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A read position inside the borrowed span [buf, buf + len). Invariant: off <= len. */
struct pinset_cursor {
    const uint8_t *buf;
    size_t len;
    size_t off;
};

/* Start reading buf[0..len). buf may be NULL only when len is 0. */
static inline void pinset__cursor_init(struct pinset_cursor *c, const uint8_t *buf, size_t len)
{
    assert(c != NULL);
    assert(buf != NULL || len == 0);
    c->buf = buf;
    c->len = buf != NULL ? len : 0;
    c->off = 0;
}

/* Bytes not yet read. */
static inline size_t pinset__cursor_remaining(const struct pinset_cursor *c)
{
    assert(c->off <= c->len);
    return c->len - c->off;
}

/* True when every byte has been read. */
static inline bool pinset__cursor_at_end(const struct pinset_cursor *c)
{
    return pinset__cursor_remaining(c) == 0;
}

/* The current read position (offset from buf) and a pointer to it. */
static inline size_t pinset__cursor_offset(const struct pinset_cursor *c)
{
    return c->off;
}

static inline const uint8_t *pinset__cursor_ptr(const struct pinset_cursor *c)
{
    return c->buf != NULL ? c->buf + c->off : NULL;
}

/* Look at the next byte without consuming it; false at the end. */
static inline bool pinset__cursor_peek_u8(const struct pinset_cursor *c, uint8_t *out)
{
    if (pinset__cursor_remaining(c) < 1) {
        return false;
    }
    *out = c->buf[c->off];
    return true;
}

/* Read one byte; false (cursor unchanged) at the end. */
static inline bool pinset__cursor_read_u8(struct pinset_cursor *c, uint8_t *out)
{
    if (!pinset__cursor_peek_u8(c, out)) {
        return false;
    }
    c->off++;
    return true;
}

/*
 * Borrow the next n bytes: *out points into the span. False (cursor
 * unchanged, *out untouched) if fewer than n bytes remain.
 */
static inline bool pinset__cursor_read_bytes(struct pinset_cursor *c, size_t n, const uint8_t **out)
{
    if (n > pinset__cursor_remaining(c)) {
        return false;
    }
    *out = pinset__cursor_ptr(c);
    c->off += n;
    return true;
}

/* Skip n bytes; false (cursor unchanged) if fewer than n remain. */
static inline bool pinset__cursor_skip(struct pinset_cursor *c, size_t n)
{
    const uint8_t *ignored;

    return pinset__cursor_read_bytes(c, n, &ignored);
}

/*
 * Consume the n bytes in want if the input continues with exactly them;
 * false (cursor unchanged) otherwise.
 */
static inline bool pinset__cursor_expect(struct pinset_cursor *c, const uint8_t *want, size_t n)
{
    if (n > pinset__cursor_remaining(c)) {
        return false;
    }
    if (n > 0 && memcmp(c->buf + c->off, want, n) != 0) {
        return false;
    }
    c->off += n;
    return true;
}

/*
 * Split off the next n bytes as a sub-cursor (sub reads only those bytes)
 * and advance c past them. False (both unchanged) if fewer than n remain.
 */
static inline bool pinset__cursor_sub(struct pinset_cursor *c, size_t n, struct pinset_cursor *sub)
{
    const uint8_t *p;

    if (!pinset__cursor_read_bytes(c, n, &p)) {
        return false;
    }
    pinset__cursor_init(sub, p, n);
    return true;
}

#endif /* PINSET_CURSOR_H */
