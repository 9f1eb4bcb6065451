/*
 * uri.h - a bounded checker for report URIs, for lint (lint.c). Internal; not
 * installed. docs/lint-rules.md ("report-uri-invalid") states the grammar.
 */
#ifndef PINSET_URI_H
#define PINSET_URI_H

#include <stddef.h>

#include <pinset/error.h>
#include <pinset/host.h>

/* Longest report URI checked (the policy parser's bound too). */
#define PINSET_URI_MAX 2048

/* What the checker learns from a URI it accepts. */
struct pinset__uri {
    int https;                  /* 1 for https, 0 for http */
    unsigned int port;          /* 1-65535, or 0 when none is written */
    pinset_host_type type;      /* what the host is */
    char host[PINSET_HOST_MAX]; /* canonical (pinset_host_canon), IPv6 without brackets */
};

/*
 * Check s[0..len) against the grammar of docs/lint-rules.md: an absolute
 * http or https URI with a host (RFC 3986 section 3, UTF-8 where RFC 3987
 * allows it). Reads no byte past s + len; an embedded NUL is refused.
 *
 * Returns PINSET_OK; PINSET_E_PARSE (diag says what is wrong, and its offset
 * where one character is to blame); PINSET_E_LIMIT (longer than
 * PINSET_URI_MAX); PINSET_E_INVALID_ARG. On failure *out is zeroed.
 */
pinset_err pinset__uri_parse(struct pinset__uri *out, const char *s, size_t len, pinset_diag *diag);

#endif /* PINSET_URI_H */
