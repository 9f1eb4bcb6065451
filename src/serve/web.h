/*
 * web.h - the collector's web view: server-rendered HTML, no script, no
 * external asset, every stored field HTML-escaped (report fields are the
 * attacker's); the Content-Security-Policy allows only the page's own
 * inline style (by hash) and inline SVG.
 */
#ifndef PINSET_SERVE_WEB_H
#define PINSET_SERVE_WEB_H

#include <stddef.h>
#include <stdint.h>
#include <store/store.h>
#include <util/buf.h>

#define WEB_PAGE_MAX     ((size_t)8 * 1024 * 1024) /* bytes of one page */
#define WEB_HOST_ROWS    200                       /* rows shown on a host page */
#define WEB_INDEX_GROUPS 1000                      /* host and class rows shown on the index */
#define WEB_CHART_DAYS   14                        /* the chart's span */

/* The Content-Security-Policy header value (computed once). */
const char *web_csp(void);
/* Append s HTML-escaped (& < > " ' and control characters). */
int web_escape(struct pinset__buf *b, const char *s);
/* GET /: hosts, classes, the chart. Returns 0, or -1 with err. */
int web_index(struct pinset__buf *b, store *db, int64_t now, char *err, size_t cap);
/* GET /host/NAME: 0, 1 when the host has no report (404), -1 with err. */
int web_host(struct pinset__buf *b, store *db, const char *host, int64_t now, char *err,
             size_t cap);

#endif /* PINSET_SERVE_WEB_H */
