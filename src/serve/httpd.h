/*
 * httpd.h - the one start-up of the tool's HTTP(S) servers on
 * libmicrohttpd: the collector (serve/server.c), the monitor
 * (monitor/http.c) and the demo (cli/demo_http.c) give their handler and
 * their limits; this parses the listen address (IPv4, [IPv6]), picks the
 * thread model (a pool of threads on epoll), sets the connection limits and
 * timeouts, and serves HTTPS from a PEM certificate and key when asked.
 * Part of the tool: libpinset never links libmicrohttpd.
 *
 * HTTPS (httpd_tls_load): the files are read with the bounded reader and
 * checked with OpenSSL before libmicrohttpd (GnuTLS) sees them, so that a
 * refusal names the file and the reason: unreadable, not PEM, an encrypted
 * key, a key that other users may read, a key that is not the
 * certificate's. The key's text is wiped as soon as the daemon has loaded
 * it (httpd_start) and never appears in a message. TLS 1.2 and 1.3 only.
 */
#ifndef PINSET_SERVE_HTTPD_H
#define PINSET_SERVE_HTTPD_H

#include <microhttpd.h>
#include <stddef.h>
#include <util/buf.h>

#define HTTPD_PEM_MAX ((size_t)1024 * 1024) /* bytes of a certificate or key file */

/* GnuTLS priorities of every HTTPS server of the tool: its defaults, TLS 1.2 and 1.3 only. */
#define HTTPD_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* A certificate chain and its key, read and checked (httpd_tls_load). */
typedef struct httpd_tls {
    struct pinset__buf cert; /* PEM text, NUL-terminated */
    struct pinset__buf key;  /* PEM text; wiped by httpd_start and httpd_tls_free */
} httpd_tls;

/*
 * Read the PEM certificate chain at cert_path and the PEM private key at
 * key_path, and check them: at least one certificate; the key unencrypted,
 * readable by its owner (and group) only, and the first certificate's.
 * Also fails when this libmicrohttpd has no TLS. Returns 0, or -1 with
 * "FILE: reason" in err (t is then empty; httpd_tls_free is still safe).
 */
int httpd_tls_load(httpd_tls *t, const char *cert_path, const char *key_path, char *err,
                   size_t cap);
/* Release (and wipe) both buffers; safe on a zeroed or loaded struct. */
void httpd_tls_free(httpd_tls *t);

typedef struct httpd_config {
    const char *listen;            /* ADDR:PORT, [ADDR6]:PORT, :PORT; port 0 picks a free one */
    unsigned int threads;          /* the pool of threads that accept and answer */
    unsigned int connection_limit; /* open connections at once */
    unsigned int per_ip_limit;     /* open connections from one address (0: no limit) */
    unsigned int timeout;          /* seconds without a byte before a connection is closed */
    MHD_AccessHandlerCallback handler;
    void *handler_cls;
    MHD_RequestCompletedCallback completed; /* optional */
    void *completed_cls;
    httpd_tls *tls; /* NULL: plain HTTP; else its key is wiped once the daemon has it */
} httpd_config;

typedef struct httpd httpd;

/*
 * Start serving. 0 with *out set, or -1 with the reason in err (the listen
 * address, or why libmicrohttpd did not start: the port in use, an address
 * not this machine's, TLS material GnuTLS refused). The threads inherit the
 * caller's signal mask.
 */
int httpd_start(httpd **out, const httpd_config *cfg, char *err, size_t cap);
/* The port actually bound (for port 0). */
unsigned int httpd_port(const httpd *h);
/* Stop (finishing requests in progress) and free; NULL is a no-op. */
void httpd_stop(httpd *h);

/* Parse ADDR:PORT into a socket address (struct sockaddr_storage). 0 or -1. */
int serve_parse_listen(const char *text, void *ss_out, size_t *len_out);
/*
 * The URL a server listening on listen (already parsed) at port is reached
 * at: "http[s]://HOST:PORT", HOST as in listen ("[::1]" for IPv6), 0.0.0.0
 * when listen has none.
 */
void httpd_url(char *buf, size_t cap, const char *listen, unsigned int port, int tls);

#endif /* PINSET_SERVE_HTTPD_H */
