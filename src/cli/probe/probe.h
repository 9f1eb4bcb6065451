/*
 * probe.h - the concurrent TLS probe engine of the pinset tool.
 *
 * One libevent loop drives many probes at once: asynchronous DNS (evdns),
 * non-blocking connect, an optional plain-text STARTTLS preamble, and a
 * non-blocking OpenSSL handshake, each step under its own timeout and all of
 * them under the target's overall deadline. At most `concurrency` targets
 * are in flight; the next target starts only when a slot frees, so memory
 * and descriptors stay bounded however many targets there are.
 *
 * Validation failure does not abort the handshake: the engine records the
 * first X509 verify error and lets the handshake finish, so the caller still
 * sees the served chain. `validated` tells whether the chain was trusted
 * for the target's name; `verified` is set only then.
 *
 * Each target gets exactly one result, delivered through the callback as
 * soon as that target is done, in completion order (not input order).
 *
 * Uses OpenSSL and libevent only, so that test programs can link it directly.
 *
 * Use (as `pinset check` would):
 *
 *     probe_opts o = PROBE_OPTS_INIT;      // o.cafile, o.timeout_ms, o.on_ssl...
 *     probe_engine *e = probe_engine_new(&o, err, sizeof(err));
 *     probe_engine_run(e, targets, n, on_result, state, err, sizeof(err));
 *     probe_engine_free(e);
 *
 * where on_result(probe_result *r, void *state) looks at r->index (the
 * target's position), r->status and r->error, r->validated and r->verified
 * (the chain to match pins against), r->served, r->protocol and the timings.
 * targets.h builds the targets array from arguments, --resolve,
 * --connect-to and targets files.
 *
 * Caveats: no revocation checking (OCSP, CRL); no pin check (that is the
 * caller's job on the `verified` chain); one address family attempt order as
 * the resolver returns it (no Happy Eyeballs).
 */
#ifndef PINSET_CLI_PROBE_H
#define PINSET_CLI_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

/* How a probe ended. Stable: the names (probe_status_name) appear in JSON output. */
typedef enum probe_status {
    PROBE_OK = 0,          /* handshake completed (see `validated` for the chain) */
    PROBE_E_DNS = 1,       /* the name did not resolve */
    PROBE_E_REFUSED = 2,   /* connection refused */
    PROBE_E_RESET = 3,     /* connection reset by the peer */
    PROBE_E_CLOSED = 4,    /* the peer closed the connection before the handshake ended */
    PROBE_E_TIMEOUT = 5,   /* a step (connect, starttls, handshake) or the deadline ran out */
    PROBE_E_NOT_TLS = 6,   /* the peer answered, but not in TLS (plain HTTP, garbage) */
    PROBE_E_HANDSHAKE = 7, /* TLS handshake failure: an alert, no shared version or cipher */
    PROBE_E_STARTTLS = 8,  /* the plain-text STARTTLS preamble failed */
    PROBE_E_CONNECT = 9,   /* another connect failure (unreachable network or host) */
    PROBE_E_INTERNAL = 10  /* out of memory, descriptors or another local failure */
} probe_status;

typedef enum probe_starttls {
    PROBE_STARTTLS_NONE = 0,
    PROBE_STARTTLS_SMTP = 1,
    PROBE_STARTTLS_IMAP = 2,
    PROBE_STARTTLS_POP3 = 3,
    PROBE_STARTTLS_FTP = 4,
    PROBE_STARTTLS_XMPP = 5,
    PROBE_STARTTLS_POSTGRES = 6
} probe_starttls;

/* Most addresses one target may list (from --resolve or a targets file). */
#define PROBE_MAX_ADDRS 4
/* Most addresses tried for one target, from DNS or the list above. */
#define PROBE_MAX_ATTEMPTS 8

/*
 * One target. Strings are owned by whoever built the array (targets.c) and
 * must outlive probe_engine_run.
 */
typedef struct probe_target {
    const char *name;         /* as the user wrote it, for display */
    const char *host;         /* canonical host: SNI (unless an IP) and the name verified */
    uint16_t port;            /* the port asked for */
    const char *connect_host; /* where to dial (after --connect-to); NULL = host */
    uint16_t connect_port;    /* 0 = port */
    const char *servername;   /* SNI and verify name override; NULL = host */
    size_t naddrs;            /* numeric addresses to dial instead of resolving connect_host */
    const char *addrs[PROBE_MAX_ADDRS];
    void *user; /* the caller's, passed back in the result */
} probe_target;

typedef struct probe_opts {
    unsigned int concurrency;          /* targets in flight; 0 = 64; clamped to RLIMIT_NOFILE */
    unsigned int timeout_ms;           /* overall deadline per target; 0 = 10000 */
    unsigned int connect_timeout_ms;   /* per connect attempt; 0 = min(5000, timeout) */
    unsigned int handshake_timeout_ms; /* STARTTLS + TLS handshake; 0 = timeout */
    int family;                        /* AF_UNSPEC (0), AF_INET or AF_INET6 */
    probe_starttls starttls;
    const char *cafile; /* NULL and capath NULL: the system default store */
    const char *capath;
    /* Optional: the caller's context (borrowed). Then cafile and capath are ignored,
       the caller sets the trust store, and the engine installs NO verify callback of
       its own: the context's verify mode and callback decide (a verify failure then
       ends the handshake as PROBE_E_HANDSHAKE, with the served chain and the verify
       error kept in the result). */
    SSL_CTX *ctx;
    /* Optional hook called once per SSL, after SNI and the verify name are set and
       just before the handshake (e.g. to install pinset's verdict hook for `check`).
       `target` points into the array given to probe_engine_run. The hook may keep
       the SSL with SSL_up_ref to read it after the result callback. Return 0 to go
       on, non-zero to fail the target (PROBE_E_INTERNAL). */
    int (*on_ssl)(SSL *ssl, const probe_target *target, void *payload);
    void *on_ssl_payload;
    const char *resolv_conf; /* tests: resolver configuration; NULL = /etc/resolv.conf */
} probe_opts;

#define PROBE_OPTS_INIT                                                        \
    {                                                                          \
        0, 0, 0, 0, 0, PROBE_STARTTLS_NONE, NULL, NULL, NULL, NULL, NULL, NULL \
    }

/* What one probe found. Owned by the engine; valid during the callback only. */
typedef struct probe_result {
    const probe_target *target;
    size_t index; /* the target's index in the array given to probe_engine_run */
    probe_status status;
    char error[256];  /* one line, lower case; empty when status == PROBE_OK */
    char address[64]; /* the address last dialed, "1.2.3.4:443" or "[::1]:443" */
    /* Set when status == PROBE_OK (served and the verify error also after a
       PROBE_E_HANDSHAKE that came after the peer's certificates, e.g. when an
       on_ssl hook or a caller's SSL_CTX rejected the chain): */
    STACK_OF(X509) * served;   /* the chain the peer sent, leaf first */
    STACK_OF(X509) * verified; /* the chain OpenSSL validated, leaf to trust anchor; NULL
                                  unless validated */
    int validated;             /* 1 when the chain validated for the verify name */
    long verify_error;         /* X509_V_OK or the first X509 verify error seen */
    int verify_depth;          /* the depth of that error, -1 when none */
    char verify_error_str[128];
    char protocol[16]; /* "TLSv1.3" */
    char cipher[64];
    /* Milliseconds; a step not reached is 0. */
    double dns_ms, connect_ms, starttls_ms, handshake_ms, total_ms;
} probe_result;

/*
 * Called once per target when it is done. The result is borrowed; to keep the
 * chains, take them (set res->served / res->verified to NULL) or up-ref them.
 */
typedef void (*probe_result_fn)(probe_result *res, void *payload);

typedef struct probe_engine probe_engine;

/*
 * Create an engine: an event base, a TLS context (unless opts->ctx) and the
 * limits. Returns NULL with a one-line message in err on failure (e.g. an
 * unreadable --cafile).
 */
probe_engine *probe_engine_new(const probe_opts *opts, char *err, size_t errcap);

/*
 * Probe every target and call `cb` once per target. Returns 0 when the run
 * completed (whatever the targets' outcomes), -1 on a local failure that
 * stopped the run (then the message is in err); targets not yet reported
 * are reported as PROBE_E_INTERNAL before returning.
 */
int probe_engine_run(probe_engine *e, const probe_target *targets, size_t n, probe_result_fn cb,
                     void *payload, char *err, size_t errcap);

/* The concurrency actually used (after the RLIMIT_NOFILE clamp). */
unsigned int probe_engine_concurrency(const probe_engine *e);

void probe_engine_free(probe_engine *e);

/* "ok", "dns", "refused", "reset", "closed", "timeout", "not-tls", "handshake", ... */
const char *probe_status_name(probe_status s);
/* Parse a --starttls value; -1 when unknown. */
int probe_starttls_parse(const char *s, probe_starttls *out);
const char *probe_starttls_name(probe_starttls p);
/* The protocol's usual port (443 for PROBE_STARTTLS_NONE). */
uint16_t probe_starttls_port(probe_starttls p);

#endif /* PINSET_CLI_PROBE_H */
