/*
 * hex.h - the value of one hexadecimal digit, and a fixed-length hex string
 * decoded and written, for every reader of hex digests (pins, update state and index,
 * reporter state, CT positions). Internal; not installed.
 */
#ifndef PINSET_UTIL_HEX_H
#define PINSET_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value 0..15 of c ('0'-'9', 'a'-'f', and 'A'-'F' unless lower_only); -1 for any other octet.
 */
int pinset__hex_digit(unsigned char c, int lower_only);

/* Write len octets as 2 * len lowercase digits and a NUL into out (2 * len + 1 chars). */
void pinset__hex_encode(char *out, const uint8_t *in, size_t len);

/*
 * Decode exactly 2 * len digits of in into out[0..len); 0, or -1 (out then
 * undefined) when one of them is not a digit as pinset__hex_digit reads it.
 */
int pinset__hex_decode(uint8_t *out, const char *in, size_t len, int lower_only);

#endif /* PINSET_UTIL_HEX_H */
