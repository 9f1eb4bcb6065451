/*
 * web.c - the HTML pages of web.h. One constant style block, allowed by its
 * SHA-256 in the CSP; charts are inline SVG drawn here.
 */
#include <jansson.h>
#include <serve/classify.h>
#include <serve/web.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <util/rfc3339.h>

#include <openssl/evp.h>

#include "common.h"

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}code{font-size:12px;word-break:break-all}"
    ".clock-skew{color:#666}.stale-client{color:#a60}.interception{color:#c00;font-weight:bold}"
    ".rotation-drift{color:#06c}.unclassified{color:#555}"
    ".action{background:#fffbe6;border-left:4px solid #e0b000;padding:.3em .6em}"
    "svg text{font-size:10px}";

/* bar colours per class, in classify.h's order */
static const char *const colours[CLASS_COUNT] = {"#999", "#d80", "#c00", "#06c", "#555"};

const char *web_csp(void)
{
    static char csp[256];
    static int done;

    if (!done) {
        unsigned char sha[32], b64[48];
        unsigned int n = 0;
        EVP_Digest(style, sizeof(style) - 1, sha, &n, EVP_sha256(), NULL);
        EVP_EncodeBlock(b64, sha, 32);
        snprintf(csp, sizeof(csp),
                 "default-src 'none'; style-src 'sha256-%s'; img-src 'none'; base-uri 'none'; "
                 "form-action 'none'; frame-ancestors 'none'",
                 (const char *)b64);
        done = 1;
    }
    return csp;
}

static int put(struct pinset__buf *b, const char *s)
{
    return pinset__buf_append(b, s, strlen(s)) == PINSET_OK ? 0 : -1;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
putf(struct pinset__buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        return -1;
    }
    return pinset__buf_append(b, tmp, (size_t)n) == PINSET_OK ? 0 : -1;
}

int web_escape(struct pinset__buf *b, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        const char *rep = NULL;
        char one[2] = {*s, '\0'};
        switch (*s) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            rep = (unsigned char)*s < 0x20 || *s == 0x7f ? "?" : one;
            break;
        }
        if (put(b, rep) != 0) {
            return -1;
        }
    }
    return 0;
}

/* A host in a URL path: unreserved characters as they are, the rest %XX. */
static int put_url_host(struct pinset__buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '-' || c == '_') {
            if (pinset__buf_append(b, s, 1) != PINSET_OK) {
                return -1;
            }
        } else if (putf(b, "%%%02X", c) != 0) {
            return -1;
        }
    }
    return 0;
}

static void time_text(char out[32], int64_t t)
{
    if (pinset__time_write(out, 32, t) != 0) {
        snprintf(out, 32, "%lld", (long long)t);
    }
}

static int head(struct pinset__buf *b, const char *title)
{
    if (put(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width\"><title>") != 0 ||
        web_escape(b, title) != 0 || put(b, "</title><style>") != 0 || put(b, style) != 0 ||
        put(b, "</style></head><body>\n") != 0) {
        return -1;
    }
    return 0;
}

/* ---- the chart ---- */

#define CHART_W 720
#define CHART_H 160

typedef struct chart {
    int64_t start, width; /* first bucket, bucket width */
    int64_t counts[WEB_CHART_DAYS][CLASS_COUNT];
} chart;

static int chart_point(const store_point *p, void *payload)
{
    chart *c = payload;
    report_class k = classify_from_name(p->class_name);
    int64_t i = (p->start - c->start) / c->width;

    if (k == CLASS_COUNT) {
        k = CLASS_UNCLASSIFIED;
    }
    if (i >= 0 && i < WEB_CHART_DAYS) {
        c->counts[i][k] += p->reports;
    }
    return 0;
}

static int draw_chart(struct pinset__buf *b, store *db, const char *host, int64_t now, char *err,
                      size_t cap)
{
    chart *c = calloc(1, sizeof(*c));
    store_filter f = {0, host};
    int64_t max = 1;
    int rc = -1;
    const int bw = CHART_W / WEB_CHART_DAYS;

    if (c == NULL) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    c->width = 86400;
    c->start = (now / 86400 - (WEB_CHART_DAYS - 1)) * 86400;
    f.since = c->start;
    if (db->ops->series(db, &f, c->width, chart_point, c, err, cap) < 0) {
        goto done;
    }
    for (int i = 0; i < WEB_CHART_DAYS; i++) {
        int64_t sum = 0;
        for (int k = 0; k < CLASS_COUNT; k++) {
            sum += c->counts[i][k];
        }
        max = sum > max ? sum : max;
    }
    if (putf(b,
             "<svg id=\"chart\" role=\"img\" aria-label=\"reports per day\" width=\"%d\" "
             "height=\"%d\" viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\">",
             CHART_W, CHART_H + 30, CHART_W, CHART_H + 30) != 0) {
        goto oom;
    }
    for (int i = 0; i < WEB_CHART_DAYS; i++) {
        int64_t y = CHART_H;
        char day[32];
        for (int k = 0; k < CLASS_COUNT; k++) {
            int64_t h = c->counts[i][k] * (CHART_H - 10) / max;
            if (c->counts[i][k] > 0 && h == 0) {
                h = 1;
            }
            if (h == 0) {
                continue;
            }
            y -= h;
            if (putf(b,
                     "<rect x=\"%d\" y=\"%lld\" width=\"%d\" height=\"%lld\" fill=\"%s\">"
                     "<title>%s: %lld</title></rect>",
                     i * bw + 2, (long long)y, bw - 4, (long long)h, colours[k], classify_name(k),
                     (long long)c->counts[i][k]) != 0) {
                goto oom;
            }
        }
        time_text(day, c->start + i * c->width);
        day[10] = '\0';
        if (putf(b, "<text x=\"%d\" y=\"%d\">%s</text>", i * bw + 2, CHART_H + 14, day + 5) != 0) {
            goto oom;
        }
    }
    if (putf(b, "<text x=\"2\" y=\"%d\">per day, UTC; highest %lld</text></svg>\n", CHART_H + 28,
             (long long)max) != 0) {
        goto oom;
    }
    rc = 0;
    goto done;
oom:
    snprintf(err, cap, "page too large");
done:
    free(c);
    return rc;
}

/* ---- the index ---- */

typedef struct index_ctx {
    struct pinset__buf *b;
    int64_t groups;
    int oom;
} index_ctx;

static int index_group(const store_group *g, void *payload)
{
    index_ctx *x = payload;
    struct pinset__buf *b = x->b;
    char first[32], last[32];

    time_text(first, g->first_seen);
    time_text(last, g->last_seen);
    if (++x->groups > WEB_INDEX_GROUPS) {
        return 1; /* the rest is counted by the caller's note */
    }
    if (put(b, "<tr><td class=\"host\"><a href=\"/host/") != 0 || put_url_host(b, g->host) != 0 ||
        put(b, "\">") != 0 || web_escape(b, g->host) != 0 ||
        put(b, "</a></td><td class=\"class ") != 0 || web_escape(b, g->class_name) != 0 ||
        put(b, "\">") != 0 || web_escape(b, g->class_name) != 0 ||
        putf(b, "</td><td class=\"count\">%lld</td><td>%lld</td><td>%s</td><td>%s</td></tr>\n",
             (long long)g->reports, (long long)g->rows, first, last) != 0) {
        x->oom = 1;
        return 1;
    }
    return 0;
}

int web_index(struct pinset__buf *b, store *db, int64_t now, char *err, size_t cap)
{
    index_ctx x = {b, 0, 0};

    if (head(b, "pinset collect: reports") != 0 ||
        put(b, "<h1>Pin-failure reports</h1>\n<h2>Reports over time</h2>\n") != 0) {
        goto oom;
    }
    if (draw_chart(b, db, NULL, now, err, cap) != 0) {
        return -1;
    }
    if (put(b, "<h2>Hosts and classes</h2>\n<table id=\"groups\"><thead><tr><th>host</th>"
               "<th>class</th><th>reports</th><th>distinct</th><th>first seen</th>"
               "<th>last seen</th></tr></thead><tbody>\n") != 0) {
        goto oom;
    }
    if (db->ops->groups(db, NULL, index_group, &x, err, cap) < 0) {
        return -1;
    }
    if (!x.oom && x.groups > WEB_INDEX_GROUPS &&
        putf(b,
             "</tbody></table>\n<p id=\"more\">Only the first %d hosts and classes are shown: "
             "use <code>pinset reports</code> for all.</p>\n<table><tbody>",
             WEB_INDEX_GROUPS) != 0) {
        goto oom;
    }
    if (x.oom || put(b, "</tbody></table>\n") != 0 ||
        (x.groups == 0 && put(b, "<p id=\"empty\">No report yet.</p>\n") != 0)) {
        goto oom;
    }
    if (put(b, "<h2>Classes</h2>\n<dl>") != 0) {
        goto oom;
    }
    for (int k = 0; k < CLASS_COUNT; k++) {
        if (putf(b, "<dt class=\"%s\">%s</dt><dd>", classify_name(k), classify_name(k)) != 0 ||
            web_escape(b, classify_action(k)) != 0 || put(b, "</dd>") != 0) {
            goto oom;
        }
    }
    if (put(b, "</dl>\n<p><a href=\"/metrics\">metrics</a></p></body></html>\n") != 0) {
        goto oom;
    }
    return 0;
oom:
    snprintf(err, cap, "page too large");
    return -1;
}

/* ---- a host ---- */

typedef struct host_ctx {
    struct pinset__buf *b;
    int64_t n;
    char last_class[32];
    int oom;
} host_ctx;

static int put_pins(struct pinset__buf *b, const char *pins)
{
    if (pins[0] == '\0') {
        return put(b, "<em>none</em>");
    }
    return put(b, "<code>") != 0 || web_escape(b, pins) != 0 || put(b, "</code>") != 0 ? -1 : 0;
}

static int put_chain(struct pinset__buf *b, const json_t *chain)
{
    size_t i;
    json_t *c;

    if (!json_is_array(chain) || json_array_size(chain) == 0) {
        return put(b, "<em>none</em>");
    }
    if (put(b, "<ol class=\"chain\">") != 0) {
        return -1;
    }
    json_array_foreach(chain, i, c)
    {
        if (put(b, "<li>") != 0 ||
            web_escape(b, json_string_value(json_object_get(c, "subject"))) != 0 ||
            put(b, " <small>issued by ") != 0 ||
            web_escape(b, json_string_value(json_object_get(c, "issuer"))) != 0 ||
            put(b, "</small><br><code>") != 0 ||
            web_escape(b, json_string_value(json_object_get(c, "pin"))) != 0 ||
            put(b, "</code></li>") != 0) {
            return -1;
        }
    }
    return put(b, "</ol>");
}

static int host_row(const store_row *r, void *payload)
{
    host_ctx *x = payload;
    struct pinset__buf *b = x->b;
    char first[32], last[32];
    json_t *d = json_loads(r->detail, 0, NULL);
    report_class k = classify_from_name(r->class_name);
    int bad = 0;

    time_text(first, r->first_seen);
    time_text(last, r->last_seen);
    if (strcmp(x->last_class, r->class_name) != 0) {
        snprintf(x->last_class, sizeof(x->last_class), "%s", r->class_name);
        bad = bad || put(b, "<h2 class=\"class ") != 0 || web_escape(b, r->class_name) != 0 ||
              put(b, "\">") != 0 || web_escape(b, r->class_name) != 0 ||
              put(b, "</h2>\n<p class=\"action\">") != 0 ||
              web_escape(b, classify_action(k == CLASS_COUNT ? CLASS_UNCLASSIFIED : k)) != 0 ||
              put(b, "</p>\n");
    }
    x->n++;
    bad = bad || put(b, "<table class=\"report\"><tr><th>reports</th><td class=\"count\">") != 0 ||
          putf(b, "%lld</td></tr><tr><th>first, last seen</th><td>%s, %s</td></tr>",
               (long long)r->count, first, last) != 0 ||
          put(b, "<tr><th>format</th><td>") != 0 || web_escape(b, r->format) != 0 ||
          putf(b, "</td></tr><tr><th>port</th><td>%u</td></tr>", r->port) != 0 ||
          put(b, "<tr><th>noted host</th><td>") != 0 || web_escape(b, r->noted_host) != 0 ||
          put(b, "</td></tr><tr><th>clients</th><td>") != 0 || web_escape(b, r->client) != 0 ||
          put(b, "</td></tr><tr><th>why</th><td class=\"why\">") != 0 ||
          web_escape(b, json_string_value(json_object_get(d, "why"))) != 0;
    if (!bad && json_object_get(d, "app") != NULL) {
        const char *key;
        json_t *v;
        bad = put(b, "</td></tr><tr><th>app</th><td class=\"app\">") != 0;
        json_object_foreach(json_object_get(d, "app"), key, v)
        {
            bad = bad || web_escape(b, key) != 0 || put(b, ": ") != 0 ||
                  web_escape(b, json_string_value(v)) != 0 || put(b, "<br>") != 0;
        }
    }
    bad = bad || put(b, "</td></tr><tr><th>served chain</th><td>") != 0 ||
          put_chain(b, json_object_get(d, "served")) != 0 ||
          put(b, "</td></tr><tr><th>validated chain</th><td>") != 0 ||
          put_chain(b, json_object_get(d, "validated")) != 0 ||
          put(b, "</td></tr><tr><th>client's known pins</th><td>") != 0 ||
          put_pins(b, r->known_pins) != 0 || put(b, "</td></tr></table>\n") != 0;
    json_decref(d);
    if (bad) {
        x->oom = 1;
        return 1;
    }
    return 0;
}

int web_host(struct pinset__buf *b, store *db, const char *host, int64_t now, char *err, size_t cap)
{
    host_ctx x;
    store_filter f = {0, host};

    memset(&x, 0, sizeof(x));
    x.b = b;
    if (head(b, host) != 0 || put(b, "<p><a href=\"/\">all hosts</a></p><h1 id=\"host\">") != 0 ||
        web_escape(b, host) != 0 || put(b, "</h1>\n") != 0) {
        goto oom;
    }
    if (draw_chart(b, db, host, now, err, cap) != 0) {
        return -1;
    }
    if (db->ops->rows(db, &f, WEB_HOST_ROWS, host_row, &x, err, cap) < 0) {
        return -1;
    }
    if (x.oom) {
        goto oom;
    }
    if (x.n == 0) {
        return 1;
    }
    if (put(b, "</body></html>\n") != 0) {
        goto oom;
    }
    return 0;
oom:
    snprintf(err, cap, "page too large");
    return -1;
}
