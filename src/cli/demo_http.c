/*
 * demo_http.c - the demo's loopback HTTP server for documents in memory (demo_http.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "demo_http.h"

#include <microhttpd.h>
#include <pthread.h>
#include <serve/httpd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_HTTP_DOCS 8

typedef struct demo_doc {
    char path[128];
    char *data;
    size_t len;
} demo_doc;

struct demo_http {
    httpd *d;
    uint16_t port;
    pthread_mutex_t lock;
    demo_doc docs[DEMO_HTTP_DOCS];
    atomic_ulong served;
};

static enum MHD_Result answer(struct MHD_Connection *c, unsigned int code, const char *body,
                              size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (r == NULL) {
        return MHD_NO;
    }
    (void)MHD_add_response_header(r, "Cache-Control", "no-store");
    ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_len, void **state)
{
    demo_http *h = cls;
    enum MHD_Result ret;
    static const char not_found[] = "not found\n";

    (void)version;
    (void)upload;
    if (*state == NULL) {
        *state = h; /* headers only: answer once the (empty) body is in */
        return MHD_YES;
    }
    if (*upload_len != 0) {
        *upload_len = 0; /* a body is ignored */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0) {
        return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "", 0);
    }
    pthread_mutex_lock(&h->lock);
    for (int i = 0; i < DEMO_HTTP_DOCS; i++) {
        if (h->docs[i].data != NULL && strcmp(h->docs[i].path, url) == 0) {
            ret = answer(c, MHD_HTTP_OK, h->docs[i].data, h->docs[i].len);
            pthread_mutex_unlock(&h->lock);
            atomic_fetch_add(&h->served, 1);
            return ret;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return answer(c, MHD_HTTP_NOT_FOUND, not_found, sizeof(not_found) - 1);
}

demo_http *demo_http_start(char *err, size_t errcap)
{
    demo_http *h = calloc(1, sizeof(*h));
    httpd_config cfg;
    sigset_t all, old;
    char why[256];

    if (h == NULL) {
        snprintf(err, errcap, "demo http: out of memory");
        return NULL;
    }
    pthread_mutex_init(&h->lock, NULL);
    atomic_init(&h->served, 0);
    memset(&cfg, 0, sizeof(cfg));
    cfg.listen = "127.0.0.1:0";
    cfg.threads = 1;
    cfg.connection_limit = 16;
    cfg.timeout = 5;
    cfg.handler = handle;
    cfg.handler_cls = h;
    /* signals go to the main thread, which cleans up */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (httpd_start(&h->d, &cfg, why, sizeof(why)) != 0) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        snprintf(err, errcap, "demo http: %s", why);
        demo_http_stop(h);
        return NULL;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    h->port = (uint16_t)httpd_port(h->d);
    if (h->port == 0) {
        snprintf(err, errcap, "demo http: no port");
        demo_http_stop(h);
        return NULL;
    }
    return h;
}

uint16_t demo_http_port(const demo_http *h)
{
    return h->port;
}

int demo_http_put(demo_http *h, const char *path, const void *data, size_t len)
{
    int slot = -1;
    char *copy;

    if (len > DEMO_HTTP_DOC_MAX || strlen(path) >= sizeof(h->docs[0].path) || path[0] != '/') {
        return -1;
    }
    copy = malloc(len > 0 ? len : 1);
    if (copy == NULL) {
        return -1;
    }
    if (len > 0) {
        memcpy(copy, data, len);
    }
    pthread_mutex_lock(&h->lock);
    for (int i = 0; i < DEMO_HTTP_DOCS; i++) {
        if (h->docs[i].data != NULL && strcmp(h->docs[i].path, path) == 0) {
            slot = i;
            break;
        }
        if (h->docs[i].data == NULL && slot < 0) {
            slot = i;
        }
    }
    if (slot >= 0) {
        free(h->docs[slot].data);
        snprintf(h->docs[slot].path, sizeof(h->docs[slot].path), "%s", path);
        h->docs[slot].data = copy;
        h->docs[slot].len = len;
        copy = NULL;
    }
    pthread_mutex_unlock(&h->lock);
    free(copy);
    return slot >= 0 ? 0 : -1;
}

unsigned long demo_http_served(demo_http *h)
{
    return atomic_load(&h->served);
}

void demo_http_stop(demo_http *h)
{
    if (h == NULL) {
        return;
    }
    httpd_stop(h->d);
    for (int i = 0; i < DEMO_HTTP_DOCS; i++) {
        free(h->docs[i].data);
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}
