/*
 * der_tlv.c - the one DER tag-length-value reader (see der_tlv.h).
 */
#include "util/der_tlv.h"

#include "util/base.h"

enum pinset__der_status pinset__der_read_len(struct pinset_cursor *c, size_t *out)
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

enum pinset__der_status pinset__der_read_tlv(struct pinset_cursor *c, struct pinset__tlv *out)
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
