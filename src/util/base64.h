/*
 * base64.h - the value of one base64 character, for every decoder that
 * checks or reads base64 itself (pins, PEM, DSSE, the converters).
 * Internal; not installed.
 */
#ifndef PINSET_UTIL_BASE64_H
#define PINSET_UTIL_BASE64_H

/*
 * The value 0..63 of c in the standard alphabet (RFC 4648 table 1), also in
 * the URL-safe one ('-' 62, '_' 63) when url_safe; -1 for any other octet
 * ('=' included).
 */
int pinset__b64_digit(unsigned char c, int url_safe);

#endif /* PINSET_UTIL_BASE64_H */
