/*
 * uri.c - a bounded checker for report URIs (docs/lint-rules.md,
 * "report-uri-invalid", states the grammar).
 *
 * RFC 3986 section 3: scheme "://" authority path-abempty ["?" query]
 * ["#" fragment], with the scheme http or https, no userinfo, a host that
 * pinset_host_canon accepts (an IPv6 literal in brackets, RFC 3986 section
 * 3.2.2), an optional port 1-65535, and path, query and fragment characters
 * from RFC 3986 section 3.3-3.5 plus the UTF-8 of RFC 3987's ucschar. One
 * pass over the input, no allocation, nothing read past the given length.
 */
#include "policy/uri.h"

#include <stdint.h>

#include "internal.h"

enum part { PART_PATH, PART_QUERY, PART_FRAGMENT };

static int is_alpha(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static int is_hex(uint8_t c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3986 section 2.3 */
static int is_unreserved(uint8_t c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 3986 section 2.2 */
static int is_sub_delim(uint8_t c)
{
    switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
        return 1;
    default:
        return 0;
    }
}

/*
 * RFC 3987 section 2.2 ucschar, without the bidirectional formatting
 * characters that section 4.1 forbids (and U+2066-U+2069, their later
 * siblings): they can make a URI read differently from what it is.
 */
static int is_ucschar(uint32_t cp)
{
    if (cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
        (cp >= 0x2066 && cp <= 0x2069)) {
        return 0;
    }
    if ((cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xf900 && cp <= 0xfdcf) ||
        (cp >= 0xfdf0 && cp <= 0xffef)) {
        return 1;
    }
    /* planes 1-14: all but the last two code points of each, and not E0000-E0FFF */
    return cp >= 0x10000 && cp <= 0xefffd && (cp & 0xffff) <= 0xfffd &&
           !(cp >= 0xe0000 && cp <= 0xe0fff);
}

/*
 * The length of one well-formed UTF-8 character (RFC 3629: no overlong
 * form, no surrogate, nothing past U+10FFFF) at s[0..n) that is a ucschar;
 * 0 otherwise.
 */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    uint32_t cp;
    size_t k;

    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        k = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        k = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        k = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0; /* ASCII, a continuation byte, or a lead byte that is never valid */
    }
    if (n < k) {
        return 0;
    }
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return is_ucschar(cp) ? k : 0;
}

static pinset_err bad_at(pinset_diag *diag, const char *what, size_t at)
{
    pinset__diag_offset(diag, at);
    return PINSET_DIAG(diag, PINSET_E_PARSE, "%s", what);
}

/* "http" or "https", any case, then "://": the offset of the authority, or 0. */
static size_t scheme(int *https, const uint8_t *s, size_t len)
{
    static const char want[] = "https";
    size_t i = 0;

    while (i < 5 && i < len && (s[i] | 0x20) == want[i]) {
        i++;
    }
    if (i < 4 || len - i < 3 || s[i] != ':' || s[i + 1] != '/' || s[i + 2] != '/') {
        return 0;
    }
    *https = i == 5;
    return i + 3;
}

/* port = 1*5DIGIT, 1-65535 (RFC 3986 section 3.2.3, without the empty port) */
static pinset_err port(unsigned int *out, const uint8_t *s, size_t len, size_t at,
                       pinset_diag *diag)
{
    unsigned int v = 0;

    if (len == 0 || len > 5) {
        return bad_at(diag, len == 0 ? "empty port" : "port out of range (1-65535)", at);
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i])) {
            return bad_at(diag, "bad character in the port", at + i);
        }
        v = v * 10 + (unsigned int)(s[i] - '0');
    }
    if (v == 0 || v > 65535) {
        return bad_at(diag, "port out of range (1-65535)", at);
    }
    *out = v;
    return PINSET_OK;
}

/*
 * The host as written: letters, digits, '-', '.' and UTF-8 (U-labels), or
 * in brackets hex digits, ':' and '.' (IPv6, no zone id, no IPvFuture).
 * pinset_host_canon then decides.
 */
static pinset_err host(struct pinset__uri *out, const uint8_t *s, size_t len, size_t at,
                       pinset_diag *diag)
{
    int bracket = len > 0 && s[0] == '[';
    size_t i = bracket ? 1 : 0, end = bracket ? len - 1 : len, k;
    pinset_diag hd = PINSET_DIAG_INIT;

    if (len == 0 || (bracket && (len < 3 || s[len - 1] != ']'))) {
        return bad_at(diag, len == 0 ? "no host" : "unterminated or empty ipv6 literal", at);
    }
    while (i < end) {
        if (bracket ? is_hex(s[i]) || s[i] == ':' || s[i] == '.'
                    : is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-' || s[i] == '.') {
            i++;
            continue;
        }
        k = bracket ? 0 : utf8_len(s + i, end - i);
        if (k == 0) {
            return bad_at(
                diag, bracket ? "bad character in the ipv6 literal" : "bad character in the host",
                at + i);
        }
        i += k;
    }
    i = bracket ? 1 : 0;
    if (pinset_host_canon(out->host, sizeof(out->host), &out->type, (const char *)s + i, end - i,
                          &hd) != PINSET_OK ||
        (bracket != (out->type == PINSET_HOST_IPV6))) {
        pinset__diag_offset(diag, at);
        return PINSET_DIAG(diag, PINSET_E_PARSE, "bad host: %s",
                           hd.message[0] != '\0' ? hd.message : "not a host name or ip literal");
    }
    return PINSET_OK;
}

/* authority = host [ ":" port ], ending at the first '/', '?' or '#'; no userinfo */
static pinset_err authority(struct pinset__uri *out, const uint8_t *s, size_t len, size_t at,
                            pinset_diag *diag)
{
    size_t colon = len;
    pinset_err err;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '@') {
            return bad_at(diag, "userinfo (user:password@) is not allowed", at + i);
        }
    }
    if (len > 0 && s[0] == '[') {
        for (colon = 0; colon < len && s[colon] != ']'; colon++) {
        }
        colon = colon < len ? colon + 1 : len;
        if (colon < len && s[colon] != ':') {
            return bad_at(diag, "bad character after the ipv6 literal", at + colon);
        }
    } else {
        for (colon = 0; colon < len && s[colon] != ':'; colon++) {
        }
    }
    err = host(out, s, colon, at, diag);
    if (err == PINSET_OK && colon < len) {
        err = port(&out->port, s + colon + 1, len - colon - 1, at + colon + 1, diag);
    }
    return err;
}

/*
 * path-abempty [ "?" query ] [ "#" fragment ] (RFC 3986 sections 3.3-3.5):
 * pchar = unreserved / pct-encoded / sub-delims / ":" / "@", and '/' (and
 * '?' after the path); pct-encoded = "%" HEXDIG HEXDIG, but not %00.
 */
static pinset_err tail(const uint8_t *s, size_t len, size_t at, pinset_diag *diag)
{
    enum part part = PART_PATH;
    size_t i = 0, k;

    if (len > 0 && s[0] != '/' && s[0] != '?' && s[0] != '#') {
        return bad_at(diag, "bad character after the host", at);
    }
    while (i < len) {
        uint8_t c = s[i];

        if (c == '?' && part == PART_PATH) {
            part = PART_QUERY;
            k = 1;
        } else if (c == '#' && part != PART_FRAGMENT) {
            part = PART_FRAGMENT;
            k = 1;
        } else if (c == '%') {
            if (len - i < 3 || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
                return bad_at(diag, "bad percent-encoding", at + i);
            }
            if (s[i + 1] == '0' && s[i + 2] == '0') {
                return bad_at(diag, "percent-encoded nul", at + i);
            }
            k = 3;
        } else if (is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@' || c == '/' ||
                   (c == '?' && part != PART_PATH)) {
            k = 1;
        } else {
            k = utf8_len(s + i, len - i);
            if (k == 0) {
                return bad_at(
                    diag, c < 0x21 || c == 0x7f ? "control or space character" : "bad character",
                    at + i);
            }
        }
        i += k;
    }
    return PINSET_OK;
}

pinset_err pinset__uri_parse(struct pinset__uri *out, const char *s, size_t len, pinset_diag *diag)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t start, end;
    pinset_err err;

    if (out == NULL || s == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument");
    }
    memset(out, 0, sizeof(*out));
    if (len > PINSET_URI_MAX) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "longer than %d octets", PINSET_URI_MAX);
    }
    start = scheme(&out->https, u, len);
    if (start == 0) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "not an absolute http:// or https:// url");
    }
    for (end = start; end < len && u[end] != '/' && u[end] != '?' && u[end] != '#'; end++) {
    }
    err = authority(out, u + start, end - start, start, diag);
    if (err == PINSET_OK) {
        err = tail(u + end, len - end, end, diag);
    }
    if (err != PINSET_OK) {
        memset(out, 0, sizeof(*out));
    }
    return err;
}
