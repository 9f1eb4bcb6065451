/*
 * netopt.h - the network options of the commands that probe servers (fetch,
 * check, explain and those to come): declared once, here, and parsed once, by
 * netopt_next, so that every command takes them with the same help text, the
 * same messages and the same exit status (a bad value is a usage error, 2).
 *
 * A command lists the entries it takes in its own options table, in the
 * order its --help shows them:
 *
 *     [O_RESOLVE] = NETOPT_RESOLVE,
 *     [O_FORMAT] = NETOPT_FORMAT("text (default) or json"),
 *
 * and reads its arguments with netopt_next instead of opt_next; the network
 * options then land in a netopt, and netopt_next returns only the command's
 * own options. An option is recognised as a network option by its long name.
 */
#ifndef PINSET_CLI_NETOPT_H
#define PINSET_CLI_NETOPT_H

#include <stdint.h>

#include "opt.h"
#include "probe/probe.h"
#include "targets.h"

/* The option table entries (opt_spec initialisers). */
#define NETOPT_RESOLVE                                                                      \
    {                                                                                       \
        "resolve", 0, "HOST:PORT:ADDR", "dial ADDR for HOST:PORT (curl syntax; repeatable)" \
    }
#define NETOPT_CONNECT_TO                                                                \
    {                                                                                    \
        "connect-to", 0, "H1:P1:H2:P2", "dial H2:P2 for H1:P1 (curl syntax; repeatable)" \
    }
#define NETOPT_CAFILE                                                          \
    {                                                                          \
        "cafile", 0, "FILE", "trust anchors (PEM) instead of the system store" \
    }
#define NETOPT_CAPATH                                           \
    {                                                           \
        "capath", 0, "DIR", "hashed directory of trust anchors" \
    }
#define NETOPT_TIMEOUT                                                                 \
    {                                                                                  \
        "timeout", 't', "SECONDS", "deadline for each host's whole probe (default 10)" \
    }
#define NETOPT_CONNECT_TIMEOUT                                             \
    {                                                                      \
        "connect-timeout", 0, "SECONDS", "per connect attempt (default 5)" \
    }
#define NETOPT_CONCURRENCY                                           \
    {                                                                \
        "concurrency", 'j', "N", "hosts probed at once (default 64)" \
    }
#define NETOPT_IPV4                                  \
    {                                                \
        "ipv4", '4', NULL, "use IPv4 addresses only" \
    }
#define NETOPT_IPV6                                  \
    {                                                \
        "ipv6", '6', NULL, "use IPv6 addresses only" \
    }
#define NETOPT_NOW                                                                 \
    {                                                                              \
        "now", 0, "TIME", "check pins and validate chains at this time (RFC 3339)" \
    }
/* HELP names the command's formats, the first one the default ("text (default) or json"). */
#define NETOPT_FORMAT(help)           \
    {                                 \
        "format", 'f', "FORMAT", help \
    }

/* What the network options set. Initialise with netopt_init, release with netopt_free. */
typedef struct netopt {
    probe_opts po;   /* cafile, capath, timeout_ms, connect_timeout_ms, concurrency, family */
    target_map *map; /* --resolve and --connect-to */
    int64_t now;     /* --now; 0 = the current time */
    int format;      /* --format: an index into formats; 0 (the first) unless given */
    const char *const *formats; /* the command's --format names, NULL-terminated */
} netopt;

/*
 * Returned by netopt_next after printing a message: out of memory, or trust
 * anchors (--cafile, --capath) that cannot be opened (an input error, exit 3).
 */
enum { NETOPT_NOMEM = -10, NETOPT_INPUT = -11 };

/* Defaults, and the command's --format names (NULL-terminated). 0, or -1 when out of memory. */
int netopt_init(netopt *n, const char *const *formats);
void netopt_free(netopt *n);

/*
 * Like opt_next, but takes every network option of cmd's table into *n and
 * goes on. Returns the index of one of the command's own options,
 * OPT_POSITIONAL, OPT_HELP or OPT_END as opt_next does; OPT_ERROR after
 * printing a usage message (exit EXIT_USAGE); NETOPT_INPUT (exit EXIT_INPUT);
 * NETOPT_NOMEM (exit EXIT_INTERNAL).
 */
int netopt_next(opt_state *st, const cmd_spec *cmd, netopt *n, const char **value);

/* The exit status for an OPT_ERROR or NETOPT_NOMEM result of netopt_next. */
int netopt_exit(int r);

/*
 * Whether trust anchors at path can be read without blocking: a regular file
 * (want_dir 0) or a directory (want_dir 1). 0, or -1 with the reason in why.
 * Every place that hands a CA file or directory to OpenSSL asks this first.
 */
int netopt_anchors_usable(const char *path, int want_dir, char *why, size_t cap);

#endif /* PINSET_CLI_NETOPT_H */
