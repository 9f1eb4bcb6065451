/*
 * pinset/host.h - one canonical host form for lookup, SNI and name checks.
 *
 * Canonical: lower-case ASCII; IDNA 2008 A-labels (U-labels accepted on
 * input, converted with libidn2); one trailing dot removed; no empty label,
 * no leading dot, no NUL; labels at most 63 octets, names at most 253;
 * IPv4/IPv6 literals in their canonical text form (IPv6 without brackets,
 * RFC 5952), matched only exactly.
 */
#ifndef PINSET_HOST_H
#define PINSET_HOST_H

#include <pinset/common.h>
#include <pinset/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Buffer size that holds any canonical host, including the NUL. */
#define PINSET_HOST_MAX 256

/** What a canonical host is. */
typedef enum pinset_host_type {
    PINSET_HOST_DNS = 1,  /**< a DNS name */
    PINSET_HOST_IPV4 = 2, /**< an IPv4 literal */
    PINSET_HOST_IPV6 = 3  /**< an IPv6 literal */
} pinset_host_type;

/**
 * Canonicalise a host name or IP literal.
 *
 * Names of lower-case ASCII letters, digits, '-' and '_' are checked by
 * inspection; others go through libidn2 (idn2_lookup_u8, UTS #46
 * non-transitional). A-labels ("xn--") must decode to a valid U-label.
 * Labels may not start or end with '-'; '_' is allowed anywhere in an ASCII
 * label (`_dmarc.example.com`, Android's `subdomain_user.example.com`);
 * other characters are refused. A name whose last label is numeric (all
 * digits, or 0x and hex digits) is an IPv4 attempt and must be a dotted quad
 * (inet_pton: no 127.1, 0x7f.0.0.1, 0177.0.0.1). Anything with ':' or in
 * brackets is IPv6 (no zone id). Wildcard patterns are refused.
 *
 * @param buf,cap  output; PINSET_HOST_MAX always suffices; empty on failure
 * @param type_out optional: what the host is
 * @param host,len the input (not NUL-terminated; an embedded NUL is an error)
 * @param diag     optional detail
 * @return PINSET_OK, PINSET_E_INVALID_ARG (NULL buffer or input),
 *         PINSET_E_PARSE (not a host name), PINSET_E_LIMIT (a label over 63
 *         octets, a name over 253, an input over 1024),
 *         PINSET_E_BUFFER_TOO_SMALL
 * Ownership: nothing retained.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_host_canon(char *buf, size_t cap,
                                                          pinset_host_type *type_out,
                                                          const char *host, size_t len,
                                                          pinset_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_HOST_H */
