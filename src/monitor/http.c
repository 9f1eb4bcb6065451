/*
 * http.c - the monitor's HTTP side on libmicrohttpd (monitor.h): GET
 * /metrics (Prometheus text), GET /healthz (200 when the last round
 * finished within two intervals, 503 otherwise) and GET / (the status page,
 * with the collector's style, escaping and Content-Security-Policy:
 * serve/web.h); plain HTTP or HTTPS, started by serve/httpd.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <microhttpd.h>
#include <monitor/monitor.h>
#include <serve/httpd.h>
#include <serve/web.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <util/buf.h>

#include "common.h"

struct mon_http {
    httpd *d;
    mon *m;
};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned int code, const char *type,
                               const void *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "Content-Security-Policy", web_csp());
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (code == 405) {
        MHD_add_response_header(r, "Allow", "GET, HEAD");
    }
    ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned int code, const char *s)
{
    return respond(c, code, "text/plain; charset=utf-8", s, strlen(s));
}

static enum MHD_Result healthz(mon_http *h, struct MHD_Connection *c)
{
    int64_t now = (int64_t)time(NULL), last;
    unsigned int interval;
    char body[160];

    pthread_mutex_lock(&h->m->lock);
    last = h->m->last_finish;
    interval = h->m->interval;
    pthread_mutex_unlock(&h->m->lock);
    if (last == 0) {
        return text(c, 503, "no round has finished yet\n");
    }
    if (now - last > 2 * (int64_t)interval) {
        snprintf(body, sizeof(body), "the last round finished %lld s ago (interval %u s)\n",
                 (long long)(now - last), interval);
        return text(c, 503, body);
    }
    snprintf(body, sizeof(body), "ok: the last round finished %lld s ago\n",
             (long long)(now - last));
    return text(c, 200, body);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    mon_http *h = cls;
    enum MHD_Result ret;

    (void)version;
    (void)upload;
    if (*con_cls == NULL) {
        *con_cls = h; /* the headers: wait for the (ignored) body */
        return MHD_YES;
    }
    if (*upload_size != 0) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        return text(c, 405, "pinset monitor: GET only\n");
    }
    if (strcmp(url, "/healthz") == 0) {
        return healthz(h, c);
    }
    if (strcmp(url, "/metrics") == 0) {
        char *m = mon_metrics(h->m);
        if (m == NULL) {
            return text(c, 500, "pinset monitor: out of memory\n");
        }
        ret = respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", m, strlen(m));
        free(m);
        return ret;
    }
    if (strcmp(url, "/") == 0) {
        struct pinset__buf b;
        pinset__buf_init(&b, (size_t)256 * 1024 * 1024, 0);
        if (mon_status_page(h->m, (int64_t)time(NULL), &b) != 0) {
            pinset__buf_free(&b);
            return text(c, 500, "pinset monitor: the status page does not fit\n");
        }
        ret = respond(c, 200, "text/html; charset=utf-8", b.p, b.len);
        pinset__buf_free(&b);
        return ret;
    }
    return text(c, 404, "pinset monitor: not found (/, /metrics, /healthz)\n");
}

int mon_http_start(mon_http **out, mon *m, const char *listen, httpd_tls *tls, char *err,
                   size_t cap)
{
    httpd_config hc;
    mon_http *h;

    *out = NULL;
    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    h->m = m;
    (void)web_csp(); /* computed once, before any thread reads it */
    memset(&hc, 0, sizeof(hc));
    hc.listen = listen;
    hc.threads = 2;
    hc.connection_limit = 64;
    hc.timeout = 15;
    hc.handler = handle;
    hc.handler_cls = h;
    hc.tls = tls;
    if (httpd_start(&h->d, &hc, err, cap) != 0) {
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

unsigned int mon_http_port(const mon_http *h)
{
    return httpd_port(h->d);
}

void mon_http_stop(mon_http *h)
{
    if (h == NULL) {
        return;
    }
    httpd_stop(h->d);
    free(h);
}
