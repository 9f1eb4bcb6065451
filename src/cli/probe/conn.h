/*
 * conn.h - inside the probe engine (probe.h): the engine, one slot (struct
 * conn) per target in flight, and what the engine's files share. Only the
 * files of src/cli/probe/ include it.
 *
 *     engine.c    the scheduler: slots, timers, socket waits, finishing a target
 *     dns.c       numeric addresses, --resolve lists and evdns lookups
 *     connect.c   non-blocking connects, one address after another
 *     starttls.c  the plain-text preambles: one table of dialogues, one interpreter
 *     tls.c       the OpenSSL handshake and what it saw
 *
 * A target moves through the steps DNS -> CONNECT -> STARTTLS (optional) ->
 * HANDSHAKE; each step hands over to the next by calling it, and every end
 * goes through probe__finish.
 */
#ifndef PINSET_CLI_PROBE_CONN_H
#define PINSET_CLI_PROBE_CONN_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "probe/probe.h"

#define STARTTLS_BUF       4096  /* one preamble line or XMPP chunk */
#define STARTTLS_MAX_BYTES 65536 /* everything the server may send before TLS */

enum step { STEP_IDLE, STEP_DNS, STEP_CONNECT, STEP_STARTTLS, STEP_HANDSHAKE };

struct conn {
    struct probe_engine *e;
    int in_use;
    enum step step;
    size_t index;
    const probe_target *t;
    probe_result res;
    int fd;
    SSL *ssl;
    struct event ev;
    int ev_set;
    struct event tmo;
    struct evdns_getaddrinfo_request *dnsreq;
    struct sockaddr_storage addr[PROBE_MAX_ATTEMPTS];
    socklen_t addrlen[PROBE_MAX_ATTEMPTS];
    int naddr, cur;
    int last_errno;
    uint64_t t0, t_step, deadline;
    /* STARTTLS: the step of the dialogue and what the server sent */
    int st_state;
    char buf[STARTTLS_BUF];
    size_t blen, total_in;
    /* what the handshake saw */
    long first_verr;
    int first_depth;
    unsigned char hdr[5];
    int got_hdr;
    int alert_desc; /* -1: none received */
};

struct probe_engine {
    struct event_base *base;
    struct evdns_base *dns;
    SSL_CTX *ctx;
    int own_ctx;
    probe_opts opts;
    unsigned int conc;
    struct event refill;
    /* the current run */
    const probe_target *targets;
    size_t n, next, done;
    unsigned int active;
    struct conn *slots;
    unsigned int *free_slots; /* a stack of idle slot numbers */
    unsigned int nfree;
    probe_result_fn cb;
    void *payload;
};

/* engine.c */
uint64_t probe__now_us(void); /* monotonic microseconds */
double probe__ms_since(uint64_t t);
/* msg into buf with a lower-case first letter, as every message of the tool */
const char *probe__lc_copy(char *buf, size_t cap, const char *msg);
const char *probe__strerror(int err, char *buf, size_t cap);
/* a server's bytes in a printable, bounded form for messages (stops at CR or LF) */
void probe__printable(char *out, size_t cap, const char *s, size_t len);
/* End the target: release the slot, report the result, let the next target start. */
void probe__finish(struct conn *c, probe_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Arm the step timer for min(step_ms, the target's deadline). */
void probe__arm_timer(struct conn *c, unsigned int step_ms);
/* Wait (once) for the socket to be readable or writable. */
void probe__wait_fd(struct conn *c, short what, event_callback_fn fn);

/* dns.c: the target's addresses (given or resolved), then probe__connect_next. */
void probe__start_target(struct conn *c);
int probe__is_ip_literal(const char *s);

/* connect.c: dial c->addr[c->cur], then the next address; then STARTTLS or TLS. */
void probe__connect_next(struct conn *c);
/* The attempt in flight failed with err: close it and dial the next address. */
void probe__connect_retry(struct conn *c, int err);
probe_status probe__errno_status(int err);

/* starttls.c: run the preamble of opts.starttls, then probe__tls_start. */
void probe__starttls_begin(struct conn *c);

/* tls.c */
void probe__tls_init(void);              /* once per engine: the SSL ex_data index */
void probe__tls_start(struct conn *c);   /* SNI, verify name, hooks, then the handshake */
void probe__tls_release(struct conn *c); /* free the slot's SSL (a hook may keep a reference) */

#endif /* PINSET_CLI_PROBE_CONN_H */
