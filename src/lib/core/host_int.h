/*
 * host_int.h - host helpers shared inside src/lib (verify, policy, ossl).
 */
#ifndef PINSET_HOST_INT_H
#define PINSET_HOST_INT_H

#include <stddef.h>

/*
 * 1 when s[0..len) is already a canonical DNS name that needs no libidn2:
 * lower-case LDH labels of 1..63 octets, no "xn--" label, no trailing dot,
 * at most 253 octets, last label not numeric. 0 means "canonicalise first",
 * not "invalid".
 */
int pinset__host_is_canonical_dns(const char *s, size_t len);

/* 1 when the last label is all digits or 0x<hex>: an IPv4 attempt (WHATWG URL). */
int pinset__host_last_label_numeric(const char *s, size_t len);

#endif /* PINSET_HOST_INT_H */
