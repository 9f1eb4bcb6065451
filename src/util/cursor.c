/*
 * cursor.c - bounds-checked reads over a borrowed byte span (see cursor.h).
 * Every check is written as "n > remaining" so that no addition can wrap.
 */
#include "util/cursor.h"

#include <string.h>

#include "util/base.h"

void pinset__cursor_init(struct pinset_cursor *c, const uint8_t *buf, size_t len)
{
    PINSET_ASSERT(c != NULL);
    PINSET_ASSERT(buf != NULL || len == 0);
    c->buf = buf;
    c->len = buf != NULL ? len : 0;
    c->off = 0;
}

size_t pinset__cursor_remaining(const struct pinset_cursor *c)
{
    PINSET_ASSERT(c->off <= c->len);
    return c->len - c->off;
}

bool pinset__cursor_at_end(const struct pinset_cursor *c)
{
    return pinset__cursor_remaining(c) == 0;
}

size_t pinset__cursor_offset(const struct pinset_cursor *c)
{
    return c->off;
}

const uint8_t *pinset__cursor_ptr(const struct pinset_cursor *c)
{
    return c->buf != NULL ? c->buf + c->off : NULL;
}

bool pinset__cursor_peek_u8(const struct pinset_cursor *c, uint8_t *out)
{
    if (pinset__cursor_remaining(c) < 1) {
        return false;
    }
    *out = c->buf[c->off];
    return true;
}

bool pinset__cursor_read_u8(struct pinset_cursor *c, uint8_t *out)
{
    if (!pinset__cursor_peek_u8(c, out)) {
        return false;
    }
    c->off++;
    return true;
}

bool pinset__cursor_read_bytes(struct pinset_cursor *c, size_t n, const uint8_t **out)
{
    if (n > pinset__cursor_remaining(c)) {
        return false;
    }
    *out = pinset__cursor_ptr(c);
    c->off += n;
    return true;
}

bool pinset__cursor_skip(struct pinset_cursor *c, size_t n)
{
    const uint8_t *ignored;

    return pinset__cursor_read_bytes(c, n, &ignored);
}

bool pinset__cursor_expect(struct pinset_cursor *c, const uint8_t *want, size_t n)
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

bool pinset__cursor_sub(struct pinset_cursor *c, size_t n, struct pinset_cursor *sub)
{
    const uint8_t *p;

    if (!pinset__cursor_read_bytes(c, n, &p)) {
        return false;
    }
    pinset__cursor_init(sub, p, n);
    return true;
}
