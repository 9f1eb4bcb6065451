/*
 * hex.c - hexadecimal digits (hex.h).
 */
#include "util/hex.h"

#include "util/base.h"

int pinset__hex_digit(unsigned char c, int lower_only)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (!lower_only && c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int pinset__hex_decode(uint8_t *out, const char *in, size_t len, int lower_only)
{
    for (size_t i = 0; i < len; i++) {
        int hi = pinset__hex_digit((unsigned char)in[2 * i], lower_only);
        int lo = pinset__hex_digit((unsigned char)in[2 * i + 1], lower_only);

        if (hi < 0 || lo < 0) {
            return -1;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void pinset__hex_encode(char *out, const uint8_t *in, size_t len)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}
