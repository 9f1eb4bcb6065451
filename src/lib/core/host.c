/*
 * host.c - one canonical host form for lookup, SNI and name checks.
 *
 * DNS names: lower-case ASCII, IDNA 2008 A-labels (RFC 5890/5891, via
 * libidn2 with UTS #46 non-transitional mapping for U-label input), one
 * trailing dot removed, labels of letters, digits, hyphens and underscores of
 * 1..63 octets, at most 253 octets in all (RFC 1035 section 2.3.4; '_' as
 * DNS names such as `_dmarc.example.com` and Android's domains allow it). IP literals: IPv4 as a
 * dotted quad only, IPv6 in the RFC 5952 text form, both via inet_pton/inet_ntop.
 */
#include <arpa/inet.h>
#include <idn2.h>
#include <netinet/in.h>
#include <stdlib.h>

#include <pinset/host.h>

#include "core/host_int.h"
#include "internal.h"

/* Longest input accepted: U-labels take up to 4 octets per character. */
#define HOST_MAX_INPUT 1024

/* A character of a lower-case ASCII label: LDH, and '_' (DNS allows it; Android accepts it). */
static int is_lower_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * An A-label ("xn--..."): libidn2 decodes it and checks the U-label
 * (IDNA 2008 lookup with the round-trip check); it must come back unchanged.
 */
static pinset_err check_alabel(const char *label, size_t len, pinset_diag *diag)
{
    char tmp[PINSET_MAX_LABEL_LEN + 1];
    uint8_t *out = NULL;
    pinset_err err = PINSET_OK;
    int rc;

    memcpy(tmp, label, len);
    tmp[len] = '\0';
    rc = idn2_lookup_u8((const uint8_t *)tmp, &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "host: label '%s' is not a valid a-label: %s", tmp,
                          idn2_strerror(rc));
    } else if (strlen((const char *)out) != len || memcmp(out, tmp, len) != 0) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "host: label '%s' is not a canonical a-label", tmp);
    }
    idn2_free(out);
    return err;
}

/* Checks one lower-case ASCII label; `alabels` says whether to verify "xn--" labels. */
static pinset_err check_label(const char *s, size_t len, int alabels, pinset_diag *diag)
{
    if (len == 0) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "host: empty label");
    }
    if (len > PINSET_MAX_LABEL_LEN) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "host: label of %zu octets exceeds %d", len,
                           PINSET_MAX_LABEL_LEN);
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_lower_ldh((unsigned char)s[i])) {
            return PINSET_DIAG(diag, PINSET_E_PARSE,
                               "host: character 0x%02x is not allowed in a host name",
                               (unsigned char)s[i]);
        }
    }
    /* RFC 5891 section 4.2.3.1 / STD3: no hyphen at either end of a label */
    if (s[0] == '-' || s[len - 1] == '-') {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "host: label starts or ends with a hyphen");
    }
    if (alabels && len >= 4 && memcmp(s, "xn--", 4) == 0) {
        return check_alabel(s, len, diag);
    }
    return PINSET_OK;
}

/* Checks a lower-case ASCII name label by label (no trailing dot). */
static pinset_err check_ascii_name(const char *s, size_t len, int alabels, pinset_diag *diag)
{
    size_t start = 0;

    if (len == 0) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "host: empty host name");
    }
    if (len > PINSET_MAX_HOST_LEN) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "host: name of %zu octets exceeds %d", len,
                           PINSET_MAX_HOST_LEN);
    }
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            pinset_err err = check_label(s + start, i - start, alabels, diag);
            if (err != PINSET_OK) {
                return err;
            }
            start = i + 1;
        }
    }
    return PINSET_OK;
}

int pinset__host_is_canonical_dns(const char *s, size_t len)
{
    size_t label = 0;

    if (s == NULL || len == 0 || len > PINSET_MAX_HOST_LEN) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-') {
                return 0;
            }
            label = 0;
            continue;
        }
        if (!is_lower_ldh(c) || (label == 0 && c == '-')) {
            return 0;
        }
        /* "xn--" labels need libidn2: not canonical by inspection */
        if (label == 3 && c == '-' && s[i - 1] == '-' && s[i - 2] == 'n' && s[i - 3] == 'x') {
            return 0;
        }
        if (++label > PINSET_MAX_LABEL_LEN) {
            return 0;
        }
    }
    if (label == 0 || s[len - 1] == '-') {
        return 0;
    }
    /* a numeric last label is an IPv4 attempt, never a DNS name */
    return !pinset__host_last_label_numeric(s, len);
}

int pinset__host_last_label_numeric(const char *s, size_t len)
{
    size_t start = len;
    size_t n;

    while (start > 0 && s[start - 1] != '.') {
        start--;
    }
    n = len - start;
    if (n == 0) {
        return 0;
    }
    /* WHATWG URL "ends in a number": all digits, or 0x followed by hex digits */
    if (n >= 2 && s[start] == '0' && (s[start + 1] == 'x' || s[start + 1] == 'X')) {
        for (size_t i = start + 2; i < len; i++) {
            if (!is_hex((unsigned char)s[i])) {
                return 0;
            }
        }
        return 1;
    }
    for (size_t i = start; i < len; i++) {
        if (!is_digit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

static pinset_err put(char *buf, size_t cap, const char *s, size_t len)
{
    if (len + 1 > cap) {
        return PINSET_E_BUFFER_TOO_SMALL;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return PINSET_OK;
}

static pinset_err canon_ipv6(char *buf, size_t cap, const char *s, size_t len, pinset_diag *diag)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    char out[INET6_ADDRSTRLEN];
    struct in6_addr a;

    if (memchr(s, '%', len) != NULL) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "host: ipv6 zone identifiers are not allowed");
    }
    if (len >= sizeof(tmp)) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "host: malformed ipv6 address");
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (inet_pton(AF_INET6, tmp, &a) != 1) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "host: malformed ipv6 address");
    }
    /* glibc's inet_ntop follows RFC 5952 section 4 (lower case, longest :: run) */
    if (inet_ntop(AF_INET6, &a, out, sizeof(out)) == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INTERNAL, "host: cannot format ipv6 address");
    }
    return put(buf, cap, out, strlen(out));
}

static pinset_err canon_ipv4(char *buf, size_t cap, const char *s, size_t len, pinset_diag *diag)
{
    char tmp[INET_ADDRSTRLEN + 1];
    char out[INET_ADDRSTRLEN];
    struct in_addr a;

    /* inet_pton takes exactly four decimal octets without leading zeros:
     * the legacy forms of inet_aton (127.1, 0x7f.0.0.1, 0177.0.0.1) fail */
    if (len >= sizeof(tmp)) {
        return PINSET_DIAG(diag, PINSET_E_PARSE,
                           "host: numeric host is not a dotted-quad ipv4 address");
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (inet_pton(AF_INET, tmp, &a) != 1) {
        return PINSET_DIAG(diag, PINSET_E_PARSE,
                           "host: numeric host is not a dotted-quad ipv4 address");
    }
    if (inet_ntop(AF_INET, &a, out, sizeof(out)) == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INTERNAL, "host: cannot format ipv4 address");
    }
    return put(buf, cap, out, strlen(out));
}

/* A name with non-ASCII octets: libidn2 maps (UTS #46) and converts to A-labels. */
static pinset_err canon_unicode(char *buf, size_t cap, const char *s, size_t len, int stripped,
                                pinset_diag *diag)
{
    char tmp[HOST_MAX_INPUT + 1];
    uint8_t *out = NULL;
    pinset_err err;
    size_t n;
    int rc;

    memcpy(tmp, s, len);
    tmp[len] = '\0';
    rc = idn2_lookup_u8((const uint8_t *)tmp, &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
        idn2_free(out);
        if (rc == IDN2_TOO_BIG_DOMAIN || rc == IDN2_TOO_BIG_LABEL ||
            rc == IDN2_PUNYCODE_BIG_OUTPUT) {
            return PINSET_DIAG(diag, PINSET_E_LIMIT, "host: %s", idn2_strerror(rc));
        }
        return PINSET_DIAG(diag, PINSET_E_PARSE, "host: not a valid internationalised name: %s",
                           idn2_strerror(rc));
    }
    n = strlen((const char *)out);
    /* UTS #46 maps full stops such as U+3002; a trailing one may appear only
     * now, and only one trailing dot of either kind is the root */
    if (!stripped && n > 0 && out[n - 1] == '.') {
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        if (out[i] >= 'A' && out[i] <= 'Z') {
            out[i] = (uint8_t)(out[i] - 'A' + 'a');
        }
    }
    err = check_ascii_name((const char *)out, n, 0, diag);
    if (err == PINSET_OK && pinset__host_last_label_numeric((const char *)out, n)) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE,
                          "host: numeric host is not a dotted-quad ipv4 address");
    }
    if (err == PINSET_OK) {
        err = put(buf, cap, (const char *)out, n);
    }
    idn2_free(out);
    return err;
}

static pinset_err canon_ascii(char *buf, size_t cap, const char *s, size_t len, pinset_diag *diag)
{
    char tmp[PINSET_MAX_HOST_LEN];
    pinset_err err;

    if (len > PINSET_MAX_HOST_LEN) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "host: name of %zu octets exceeds %d", len,
                           PINSET_MAX_HOST_LEN);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        tmp[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    err = check_ascii_name(tmp, len, 1, diag);
    if (err != PINSET_OK) {
        return err;
    }
    return put(buf, cap, tmp, len);
}

static pinset_err canon(char *buf, size_t cap, pinset_host_type *type, const char *host, size_t len,
                        pinset_diag *diag)
{
    int ascii = 1, stripped = 0;

    if (len == 0) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "host: empty host name");
    }
    if (len > HOST_MAX_INPUT) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "host: input of %zu octets exceeds %d", len,
                           HOST_MAX_INPUT);
    }
    if (memchr(host, '\0', len) != NULL) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "host: name contains a nul octet");
    }
    if (host[0] == '[') {
        if (len < 2 || host[len - 1] != ']') {
            return PINSET_DIAG(diag, PINSET_E_PARSE, "host: unbalanced bracket in ip literal");
        }
        *type = PINSET_HOST_IPV6;
        return canon_ipv6(buf, cap, host + 1, len - 2, diag);
    }
    if (memchr(host, ':', len) != NULL) {
        *type = PINSET_HOST_IPV6;
        return canon_ipv6(buf, cap, host, len, diag);
    }
    if (host[0] == '.') {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "host: name starts with a dot");
    }
    if (host[len - 1] == '.') {
        stripped = 1;
        len--; /* one trailing dot (the root) is dropped; "a.." still fails below */
        if (len == 0) {
            return PINSET_DIAG(diag, PINSET_E_PARSE, "host: empty host name");
        }
    }
    if (host[0] == '*') {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "host: wildcard patterns are not host names");
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)host[i] >= 0x80) {
            ascii = 0;
            break;
        }
    }
    if (ascii && pinset__host_last_label_numeric(host, len)) {
        *type = PINSET_HOST_IPV4;
        return canon_ipv4(buf, cap, host, len, diag);
    }
    *type = PINSET_HOST_DNS;
    if (ascii) {
        return canon_ascii(buf, cap, host, len, diag);
    }
    return canon_unicode(buf, cap, host, len, stripped, diag);
}

pinset_err pinset_host_canon(char *buf, size_t cap, pinset_host_type *type_out, const char *host,
                             size_t len, pinset_diag *diag)
{
    pinset_host_type type = PINSET_HOST_DNS;
    pinset_err err;

    if (buf != NULL && cap > 0) {
        buf[0] = '\0';
    }
    if (buf == NULL || cap == 0 || (host == NULL && len != 0)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "host: null or empty output buffer");
    }
    /* the hot path: already canonical, no libidn2 and no copy beyond the output */
    if (pinset__host_is_canonical_dns(host, len)) {
        err = put(buf, cap, host, len);
    } else {
        err = canon(buf, cap, &type, host, len, diag);
    }
    if (err == PINSET_E_BUFFER_TOO_SMALL) {
        buf[0] = '\0';
        return PINSET_DIAG(diag, err, "host: output buffer of %zu octets is too small", cap);
    }
    if (err != PINSET_OK) {
        buf[0] = '\0';
        return err;
    }
    if (type_out != NULL) {
        *type_out = type;
    }
    return PINSET_OK;
}
