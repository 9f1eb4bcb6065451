/*
 * server.h - the collector's HTTP(S) server on libmicrohttpd: POST /report
 * (RFC 7469 and TrustKit reports), the web view (GET / and /host/NAME),
 * GET /metrics (Prometheus text) and GET /healthz.
 *
 * A report is answered 201 only after its row is committed; 400 with the
 * reason when it does not parse, 413 over REPORT_MAX_BODY bytes, 429 when
 * its client's token bucket is empty (per truncated address: IPv4 /24,
 * IPv6 /48). The web view's pages, each a few queries over the whole store
 * under its lock, have a token bucket of their own per client network (429
 * too); /metrics and /healthz have none. docs/collector.md describes the whole.
 */
#ifndef PINSET_SERVE_SERVER_H
#define PINSET_SERVE_SERVER_H

#include <serve/httpd.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <store/store.h>
#include <sys/socket.h>

#include <openssl/x509_vfy.h>

#include <pinset/pinset.h>

#define SERVE_PAGE_RATE  2  /* web pages (GET / and /host/NAME) per second per client network */
#define SERVE_PAGE_BURST 30 /* pages a client network may load at once */

typedef struct serve_config {
    const char *listen;          /* ADDR:PORT, [ADDR6]:PORT; port 0 picks a free one */
    store *db;                   /* where reports go (used under the server's lock) */
    const pinset_policy *policy; /* optional */
    X509_STORE *trust;           /* optional: what "a valid public chain" verifies against */
    httpd_tls *tls;              /* NULL: plain HTTP; its key is wiped once the daemon has it */
    double rate;                 /* reports per second per client network */
    unsigned int burst;          /* bucket size */
    double page_rate;            /* web pages per second per client network (0: the default) */
    unsigned int page_burst;     /* (0: the default) */
    unsigned int threads;
} serve_config;

typedef struct serve serve;

/* Start serving. 0 with *out set, or -1 with the reason in err. */
int serve_start(serve **out, const serve_config *cfg, char *err, size_t cap);
/* The port actually bound (for port 0). */
unsigned int serve_port(const serve *s);
/* Stop (finishing requests in progress) and free. */
void serve_stop(serve *s);

/* Truncate a client address to its network: IPv4 /24, IPv6 /48 (text into buf). */
void serve_truncate_addr(const struct sockaddr *sa, char *buf, size_t cap);

#endif /* PINSET_SERVE_SERVER_H */
