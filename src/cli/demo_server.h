/*
 * demo_server.h - loopback TLS for `pinset demo`: small in-process servers
 * (one thread each, a blocking OpenSSL accept loop) and a pinned client that
 * runs a handshake through libpinset's OpenSSL hooks.
 *
 * Every server listens on 127.0.0.1 on an ephemeral port, serves one
 * connection at a time with a 2 s I/O timeout, and stops by itself when its
 * lifetime ends; demo_server_stop() stops it earlier and joins its thread.
 *
 * Caveats: not a general server: no application data, no session
 * tickets, one handshake at a time.
 */
#ifndef PINSET_CLI_DEMO_SERVER_H
#define PINSET_CLI_DEMO_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <pinset/openssl.h>

typedef struct demo_server demo_server;

/*
 * Start a server presenting `leaf` (private key `key`) followed by `extra`
 * (NULL for none) as its chain. The certificates and key are up-ref'd.
 * Returns NULL with a one-line message in err.
 */
demo_server *demo_server_start(X509 *leaf, EVP_PKEY *key, X509 *extra, unsigned int lifetime_ms,
                               char *err, size_t errcap);
uint16_t demo_server_port(const demo_server *s);
/* Handshakes completed so far. */
unsigned long demo_server_handshakes(demo_server *s);
/* Stop the server, join its thread, free it. NULL is a no-op. */
void demo_server_stop(demo_server *s);

/* What a pinned client saw. */
typedef struct demo_client_result {
    int handshake_ok;         /* SSL_connect succeeded */
    int gate_ok;              /* pinset_ossl_check() let the connection through */
    pinset_verdict verdict;   /* NONE when no verdict was recorded */
    char explain[512];        /* pinset_result_explain(), or empty */
    char error[256];          /* why the handshake failed, or empty */
    char *report;             /* the first report document (malloc'd), or NULL */
    size_t reports;           /* reports received */
    pinset_report_fn forward; /* also handed every report (a reporter), or NULL */
    void *forward_payload;
} demo_client_result;

/*
 * Connect to 127.0.0.1:port, verify `host` against the trust anchors in
 * `cafile`, with `policy` attached through pinset_ossl_attach (the port
 * reported is `report_port`); every report is also handed to `forward` (NULL for
 * none, such as pinset_reporter_report with its reporter). Returns 0 when a handshake was attempted
 * (whatever its outcome), -1 with err set on a local failure.
 * Free out->report with demo_client_result_free.
 */
int demo_client_run(demo_client_result *out, uint16_t port, const char *host, const char *cafile,
                    pinset_policy *policy, unsigned int report_port, pinset_report_fn forward,
                    void *forward_payload, char *err, size_t errcap);
void demo_client_result_free(demo_client_result *r);

#endif /* PINSET_CLI_DEMO_SERVER_H */
