/*
 * base64.c - the value of one base64 character (base64.h).
 */
#include "util/base64.h"

#include "util/base.h"

int pinset__b64_digit(unsigned char c, int url_safe)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+' || (url_safe && c == '-')) {
        return 62;
    }
    if (c == '/' || (url_safe && c == '_')) {
        return 63;
    }
    return -1;
}
