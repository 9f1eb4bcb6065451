/*
 * curl_int.h - what libpinset-curl's files share (curl.c, curl_report.c):
 * internal, never exported.
 */
#ifndef PINSET_CURL_INT_H
#define PINSET_CURL_INT_H

#include <stddef.h>

/*
 * The host part of `uri` as libcurl parses it: the string to curl_free(),
 * with *h and *n the host without IPv6 brackets; NULL if the URI has none.
 */
char *pinset__curl_uri_host(const char *uri, const char **h, size_t *n);

#endif /* PINSET_CURL_INT_H */
