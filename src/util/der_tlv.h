/*
 * der_tlv.h - the one DER tag-length-value reader (X.690 §8.1, with DER's
 * §10.1: definite, minimal lengths). Every DER walker and framing check
 * reads its headers here (inline), through the bounds-checked cursor, so that each
 * caller only decides what a failure means for its own input.
 * Internal; not installed.
 */
#ifndef PINSET_UTIL_DER_TLV_H
#define PINSET_UTIL_DER_TLV_H

#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"

/* Why a header did not read; callers turn these into their own codes and messages. */
enum pinset__der_status {
    PINSET__DER_OK = 0,
    PINSET__DER_NO_TAG,               /* no byte left for the tag */
    PINSET__DER_HIGH_TAG,             /* high-tag-number form (0x1f): nothing we read uses it */
    PINSET__DER_NO_LENGTH,            /* no byte left for the length */
    PINSET__DER_INDEFINITE,           /* 0x80: BER's indefinite length */
    PINSET__DER_LENGTH_TOO_LONG,      /* more than 4 length bytes: larger than any input we take */
    PINSET__DER_LENGTH_TRUNCATED,     /* the length's own bytes run past the input */
    PINSET__DER_LENGTH_LEADING_ZERO,  /* long form with a leading zero byte: not minimal */
    PINSET__DER_LENGTH_SHORT_AS_LONG, /* long form for a length below 0x80: not minimal */
    PINSET__DER_OVERRUN               /* the content runs past the end of the input */
};

/* One element: its tag, its content as a sub-cursor, and the whole encoding. */
struct pinset__tlv {
    uint8_t tag;
    struct pinset_cursor body;
    const uint8_t *start; /* the tag byte */
    size_t total;         /* header and content */
};

/*
 * Defined here, inline: the DER walker of the pin fast path reads dozens of
 * headers per certificate, and a call per header shows in bench_hash.
 */

/*
 * Read one DER length at the cursor into *out. On failure the cursor has
 * moved by an unspecified amount; callers give up on the input.
 */
static inline enum pinset__der_status pinset__der_read_len(struct pinset_cursor *c, size_t *out)
{
    uint8_t b, n;
    size_t v = 0;

    if (!pinset__cursor_read_u8(c, &b)) {
        return PINSET__DER_NO_LENGTH;
    }
    if (b < 0x80) {
        *out = b;
        return PINSET__DER_OK;
    }
    if (b == 0x80) {
        return PINSET__DER_INDEFINITE;
    }
    n = b & 0x7f;
    if (n > 4) {
        return PINSET__DER_LENGTH_TOO_LONG;
    }
    for (uint8_t i = 0; i < n; i++) {
        if (!pinset__cursor_read_u8(c, &b)) {
            return PINSET__DER_LENGTH_TRUNCATED;
        }
        if (i == 0 && b == 0) {
            return PINSET__DER_LENGTH_LEADING_ZERO;
        }
        v = (v << 8) | b;
    }
    if (v < 0x80) {
        return PINSET__DER_LENGTH_SHORT_AS_LONG;
    }
    *out = v;
    return PINSET__DER_OK;
}

/*
 * Read one whole element (tag, length, content) at the cursor into *out;
 * the content must lie within the cursor's span. The cursor moves past it.
 */
static inline enum pinset__der_status pinset__der_read_tlv(struct pinset_cursor *c,
                                                           struct pinset__tlv *out)
{
    const uint8_t *start = pinset__cursor_ptr(c);
    size_t before = pinset__cursor_remaining(c);
    enum pinset__der_status st;
    size_t len = 0;

    if (!pinset__cursor_read_u8(c, &out->tag)) {
        return PINSET__DER_NO_TAG;
    }
    if ((out->tag & 0x1f) == 0x1f) {
        return PINSET__DER_HIGH_TAG;
    }
    st = pinset__der_read_len(c, &len);
    if (st != PINSET__DER_OK) {
        return st;
    }
    if (!pinset__cursor_sub(c, len, &out->body)) {
        return PINSET__DER_OVERRUN;
    }
    out->start = start;
    out->total = before - pinset__cursor_remaining(c);
    return PINSET__DER_OK;
}

#endif /* PINSET_UTIL_DER_TLV_H */
