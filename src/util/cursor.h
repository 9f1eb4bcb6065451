/*
 * cursor.h - the one bounds-checked read cursor every parser in src/lib and
 * src/util uses (STYLE.md §7, after s2n's stuffer). A cursor borrows a byte span and
 * never reads outside it: every read either succeeds completely or fails
 * and leaves the cursor unchanged. Internal; not installed.
 */
#ifndef PINSET_CURSOR_H
#define PINSET_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A read position inside the borrowed span [buf, buf + len). Invariant: off <= len. */
struct pinset_cursor {
    const uint8_t *buf;
    size_t len;
    size_t off;
};

/* Start reading buf[0..len). buf may be NULL only when len is 0. */
void pinset__cursor_init(struct pinset_cursor *c, const uint8_t *buf, size_t len);

/* Bytes not yet read. */
size_t pinset__cursor_remaining(const struct pinset_cursor *c);

/* True when every byte has been read. */
bool pinset__cursor_at_end(const struct pinset_cursor *c);

/* The current read position (offset from buf) and a pointer to it. */
size_t pinset__cursor_offset(const struct pinset_cursor *c);
const uint8_t *pinset__cursor_ptr(const struct pinset_cursor *c);

/* Look at the next byte without consuming it; false at the end. */
bool pinset__cursor_peek_u8(const struct pinset_cursor *c, uint8_t *out);

/* Read one byte; false (cursor unchanged) at the end. */
bool pinset__cursor_read_u8(struct pinset_cursor *c, uint8_t *out);

/*
 * Borrow the next n bytes: *out points into the span. False (cursor
 * unchanged, *out untouched) if fewer than n bytes remain.
 */
bool pinset__cursor_read_bytes(struct pinset_cursor *c, size_t n, const uint8_t **out);

/* Skip n bytes; false (cursor unchanged) if fewer than n remain. */
bool pinset__cursor_skip(struct pinset_cursor *c, size_t n);

/*
 * Consume the n bytes in want if the input continues with exactly them;
 * false (cursor unchanged) otherwise.
 */
bool pinset__cursor_expect(struct pinset_cursor *c, const uint8_t *want, size_t n);

/*
 * Split off the next n bytes as a sub-cursor (sub reads only those bytes)
 * and advance c past them. False (both unchanged) if fewer than n remain.
 */
bool pinset__cursor_sub(struct pinset_cursor *c, size_t n, struct pinset_cursor *sub);

#endif /* PINSET_CURSOR_H */
