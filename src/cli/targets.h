/*
 * targets.h - the hosts a probe visits: HOST[:PORT] and [v6]:PORT arguments,
 * targets files, and curl's --resolve and --connect-to mappings.
 *
 * --resolve HOST:PORT:ADDRESS[,ADDRESS...]
 *     connect to ADDRESS (no DNS) when dialing HOST:PORT; ADDRESS may be a
 *     bracketed IPv6 literal. As in curl, it applies to the host that is
 *     dialed, that is after --connect-to.
 * --connect-to HOST1:PORT1:HOST2:PORT2
 *     for HOST1:PORT1, dial HOST2:PORT2 instead; an empty HOST1 or PORT1
 *     matches any, an empty HOST2 or PORT2 keeps the original. The first
 *     matching entry wins. SNI, the verified name and the pins stay those
 *     of HOST1.
 * Targets file: one `HOST[:PORT] [ADDRESS]` a line; '#' starts a comment;
 * blank lines are skipped; lines are at most TARGETS_MAX_LINE bytes.
 */
#ifndef PINSET_CLI_TARGETS_H
#define PINSET_CLI_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "probe/probe.h"

#define TARGETS_MAX      1000000 /* targets in one run */
#define TARGETS_MAX_LINE 1024    /* one line of a targets file */
#define TARGETS_MAX_MAPS 1024    /* --resolve plus --connect-to entries */

typedef struct target_map target_map;

/* Initialise with TARGET_LIST_INIT; release with targets_free. */
typedef struct target_list {
    probe_target *items;
    size_t count, cap;
    char **strs; /* every string the targets point to */
    size_t nstrs, capstrs;
} target_list;
#define TARGET_LIST_INIT       \
    {                          \
        NULL, 0, 0, NULL, 0, 0 \
    }

/* A new, empty mapping set; NULL when out of memory. */
target_map *target_map_new(void);
void target_map_free(target_map *m);
/*
 * Add one --resolve / --connect-to value. 0, -1 for a malformed value or too
 * many mappings, -2 when out of memory; either with a one-line message in err.
 */
int target_map_add_resolve(target_map *m, const char *spec, char *err, size_t errcap);
int target_map_add_connect_to(target_map *m, const char *spec, char *err, size_t errcap);

/*
 * Split "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal.
 * host receives the host without brackets (not canonicalised). 0 or -1.
 */
int target_split_hostport(const char *s, char *host, size_t hostcap, uint16_t *port,
                          uint16_t default_port, char *err, size_t errcap);

/*
 * Add one target: HOST[:PORT] (canonicalised with pinset_host_canon), an
 * optional numeric ADDRESS (may be NULL), and an optional servername override
 * (may be NULL). 0 or -1 with a message.
 */
int targets_add(target_list *l, const char *spec, const char *address, const char *servername,
                uint16_t default_port, char *err, size_t errcap);
/* Read a targets file ("-" for stdin). 0 or -1 with a message naming the file and line. */
int targets_load_file(target_list *l, const char *path, const char *servername,
                      uint16_t default_port, char *err, size_t errcap);
/*
 * Apply --connect-to then --resolve to every target that has no address of
 * its own. 0 or -1 (out of memory).
 */
int targets_apply_map(target_list *l, const target_map *m, char *err, size_t errcap);
void targets_free(target_list *l);

#endif /* PINSET_CLI_TARGETS_H */
