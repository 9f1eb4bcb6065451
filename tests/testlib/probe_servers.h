/*
 * probe_servers.h - loopback servers for the probe engine's tests and
 * benchmarks: ONE child process that listens on many loopback ports, each
 * with its own behaviour (TLS with an EC, RSA or rogue chain, tarpit, reset,
 * plain HTTP, garbage, refused, and the STARTTLS preambles), plus a tiny UDP
 * DNS responder. Test-only.
 *
 * Bounded: the child exits when the parent closes the control pipe
 * (srv_stop), and after SRV_MAX_SECONDS whatever happens.
 *
 * DNS: every A query for a name starting with "dns-ok." answers 127.0.0.1;
 * AAAA queries for it answer no data; names starting with "slow." get no
 * answer at all; every other name is NXDOMAIN.
 */
#ifndef PINSET_TESTLIB_PROBE_SERVERS_H
#define PINSET_TESTLIB_PROBE_SERVERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SRV_MAX_SECONDS 300

typedef enum srv_kind {
    SRV_TLS_EC,       /* leaf-ec + int */
    SRV_TLS_RSA,      /* leaf-rsa + int */
    SRV_TLS_ROGUE,    /* rogue-leaf alone */
    SRV_TLS_LONG,     /* leaf-long (a subject of about 390 octets) + int */
    SRV_TLS_NOCIPHER, /* TLS 1.2 with PSK suites only: no shared cipher, an alert */
    SRV_EOF,          /* accepts, then closes its side (FIN) without a word */
    SRV_TARPIT,       /* accepts, never answers */
    SRV_RESET,        /* accepts, then resets */
    SRV_HTTP,         /* answers in plain HTTP */
    SRV_GARBAGE,      /* answers bytes that are not TLS */
    SRV_CLOSED,       /* bound, not listening: refused */
    SRV_SMTP,
    SRV_SMTP_NOTLS, /* refuses STARTTLS with 454 */
    SRV_IMAP,
    SRV_POP3,
    SRV_FTP,
    SRV_POSTGRES,
    SRV_XMPP
} srv_kind;

typedef struct srv {
    pid_t pid;
    int ctl; /* write end of the control pipe; closing it stops the child */
    size_t n;
    uint16_t *ports; /* ports[i] for kinds[i] */
    uint16_t dns_port;
} srv;

/*
 * Start the server child: one port per kinds[i] (s->ports[i]) and the DNS
 * port. PKI files come from dir (OUTDIR/probe). 0 on success.
 */
int srv_start(srv *s, const srv_kind *kinds, size_t n, const char *dir);
/* Stop the child (closing the control pipe, then SIGKILL if need be) and free the ports. */
void srv_stop(srv *s);

#endif /* PINSET_TESTLIB_PROBE_SERVERS_H */
