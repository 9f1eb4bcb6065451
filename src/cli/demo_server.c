/*
 * demo_server.c - loopback TLS servers and a pinned client for `pinset demo`.
 */
#define _GNU_SOURCE /* accept4, SOCK_CLOEXEC */
#include "demo_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "common.h"

#define DEMO_IO_TIMEOUT_MS 2000 /* per accepted connection, each read or write */
#define DEMO_POLL_MS       50   /* how often the accept loop looks at its stop flag */
#define DEMO_REPORT_MAX    (256 * 1024)

struct demo_server {
    SSL_CTX *ctx;
    int fd;
    uint16_t port;
    unsigned int lifetime_ms;
    pthread_t thread;
    int started;
    atomic_int stop;
    atomic_ulong handshakes;
};

static void set_io_timeout(int fd, unsigned int ms)
{
    struct timeval tv;

    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void serve_one(demo_server *s, int fd)
{
    SSL *ssl = SSL_new(s->ctx);

    set_io_timeout(fd, DEMO_IO_TIMEOUT_MS);
    if (ssl != NULL && SSL_set_fd(ssl, fd) == 1 && SSL_accept(ssl) == 1) {
        atomic_fetch_add(&s->handshakes, 1);
        (void)SSL_shutdown(ssl); /* our close_notify; the peer may already be gone */
    }
    SSL_free(ssl);
    ERR_clear_error(); /* this thread's queue: failed handshakes are expected here */
    close(fd);
}

static void *serve(void *arg)
{
    demo_server *s = arg;
    int64_t end = now_ms() + s->lifetime_ms;
    struct pollfd p;

    while (!atomic_load(&s->stop) && now_ms() < end) {
        p.fd = s->fd;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, DEMO_POLL_MS) <= 0 || (p.revents & POLLIN) == 0) {
            continue;
        }
        int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0) {
            serve_one(s, c);
        }
    }
    OPENSSL_thread_stop();
    return NULL;
}

static int listen_loopback(demo_server *s, char *err, size_t errcap)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int one = 1;

    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        snprintf(err, errcap, "demo server: socket: %s", strerror(errno));
        return -1;
    }
    (void)setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0; /* ephemeral */
    if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s->fd, 16) != 0 ||
        getsockname(s->fd, (struct sockaddr *)&a, &alen) != 0) {
        snprintf(err, errcap, "demo server: listen on 127.0.0.1: %s", strerror(errno));
        return -1;
    }
    s->port = ntohs(a.sin_port);
    return 0;
}

static int make_ctx(demo_server *s, X509 *leaf, EVP_PKEY *key, X509 *extra, char *err,
                    size_t errcap)
{
    s->ctx = SSL_CTX_new(TLS_server_method());
    if (s->ctx == NULL || SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate(s->ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(s->ctx, key) != 1 ||
        SSL_CTX_check_private_key(s->ctx) != 1 ||
        (extra != NULL && SSL_CTX_add1_chain_cert(s->ctx, extra) != 1) ||
        SSL_CTX_set_num_tickets(s->ctx, 0) != 1) {
        unsigned long e = ERR_get_error();
        char buf[200];
        ERR_error_string_n(e, buf, sizeof(buf));
        snprintf(err, errcap, "demo server: tls context: %s", e != 0 ? buf : "failed");
        ERR_clear_error();
        return -1;
    }
    SSL_CTX_set_session_cache_mode(s->ctx, SSL_SESS_CACHE_OFF);
    return 0;
}

demo_server *demo_server_start(X509 *leaf, EVP_PKEY *key, X509 *extra, unsigned int lifetime_ms,
                               char *err, size_t errcap)
{
    demo_server *s = calloc(1, sizeof(*s));
    sigset_t all, old;
    int rc;

    if (s == NULL) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    s->fd = -1;
    s->lifetime_ms = lifetime_ms;
    atomic_init(&s->stop, 0);
    atomic_init(&s->handshakes, 0);
    if (make_ctx(s, leaf, key, extra, err, errcap) != 0 || listen_loopback(s, err, errcap) != 0) {
        demo_server_stop(s);
        return NULL;
    }
    /* signals go to the main thread, which cleans up */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&s->thread, NULL, serve, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errcap, "demo server: cannot start a thread: %s", strerror(rc));
        demo_server_stop(s);
        return NULL;
    }
    s->started = 1;
    return s;
}

uint16_t demo_server_port(const demo_server *s)
{
    return s->port;
}

unsigned long demo_server_handshakes(demo_server *s)
{
    return atomic_load(&s->handshakes);
}

void demo_server_stop(demo_server *s)
{
    if (s == NULL) {
        return;
    }
    atomic_store(&s->stop, 1);
    if (s->started) {
        pthread_join(s->thread, NULL);
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    SSL_CTX_free(s->ctx);
    free(s);
}

/* ---- the pinned client ---- */

static void on_report(const char *json, size_t len, void *payload)
{
    demo_client_result *r = payload;

    r->reports++;
    if (r->forward != NULL) {
        r->forward(json, len, r->forward_payload);
    }
    if (r->report != NULL || len > DEMO_REPORT_MAX) {
        return;
    }
    r->report = malloc(len + 1);
    if (r->report != NULL) {
        memcpy(r->report, json, len);
        r->report[len] = '\0';
    }
}

static int dial(uint16_t port, char *err, size_t errcap)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        snprintf(err, errcap, "demo client: socket: %s", strerror(errno));
        return -1;
    }
    set_io_timeout(fd, 5000);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        snprintf(err, errcap, "demo client: connect to 127.0.0.1:%u: %s", (unsigned int)port,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void handshake_error(demo_client_result *out, SSL *ssl)
{
    long v = SSL_get_verify_result(ssl);
    unsigned long e = ERR_peek_error();
    char buf[200] = "";

    if (e != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
    }
    if (v != X509_V_OK) {
        snprintf(out->error, sizeof(out->error), "certificate verify failed: %s",
                 X509_verify_cert_error_string(v));
    } else {
        snprintf(out->error, sizeof(out->error), "handshake failed: %s",
                 buf[0] != '\0' ? buf : "no detail");
    }
}

static void record(demo_client_result *out, pinset_ossl *pin, SSL *ssl)
{
    const pinset_result *res = pinset_ossl_result(pin, ssl);

    if (res == NULL) {
        return;
    }
    out->verdict = pinset_result_verdict(res);
    if (pinset_result_explain(out->explain, sizeof(out->explain), res) != PINSET_OK) {
        out->explain[0] = '\0';
    }
}

int demo_client_run(demo_client_result *out, uint16_t port, const char *host, const char *cafile,
                    pinset_policy *policy, unsigned int report_port, pinset_report_fn forward,
                    void *forward_payload, char *err, size_t errcap)
{
    pinset_ossl_opts opts = PINSET_OSSL_OPTS_INIT;
    pinset_ossl *pin = NULL;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    char sni[256];
    int fd = -1, rc = -1;

    memset(out, 0, sizeof(*out));
    out->forward = forward;
    out->forward_payload = forward_payload;
    opts.report = on_report;
    opts.report_payload = out;
    ERR_set_mark();
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
        snprintf(err, errcap, "demo client: cannot load the trust anchors from %s", cafile);
        goto out;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (pinset_ossl_new(&pin, policy, &opts, NULL) != PINSET_OK ||
        pinset_ossl_attach(pin, ctx, NULL) != PINSET_OK) {
        snprintf(err, errcap, "demo client: cannot attach the pinset hooks");
        goto out;
    }
    fd = dial(port, err, errcap);
    if (fd < 0) {
        goto out;
    }
    ssl = SSL_new(ctx);
    /* a mutable copy: the SNI macro casts its argument to void * */
    if (snprintf(sni, sizeof(sni), "%s", host) >= (int)sizeof(sni) || ssl == NULL ||
        SSL_set1_host(ssl, host) != 1 || SSL_set_tlsext_host_name(ssl, sni) != 1 ||
        pinset_ossl_set_port(pin, ssl, report_port) != PINSET_OK || SSL_set_fd(ssl, fd) != 1) {
        snprintf(err, errcap, "demo client: cannot set up the connection");
        goto out;
    }
    out->handshake_ok = SSL_connect(ssl) == 1;
    if (!out->handshake_ok) {
        handshake_error(out, ssl);
    }
    out->gate_ok = out->handshake_ok && pinset_ossl_check(pin, ssl) == PINSET_OK;
    record(out, pin, ssl);
    if (out->handshake_ok) {
        (void)SSL_shutdown(ssl);
    }
    rc = 0;
out:
    SSL_free(ssl);
    if (fd >= 0) {
        close(fd);
    }
    pinset_ossl_free(pin);
    SSL_CTX_free(ctx);
    ERR_pop_to_mark();
    return rc;
}

void demo_client_result_free(demo_client_result *r)
{
    free(r->report);
    r->report = NULL;
}
