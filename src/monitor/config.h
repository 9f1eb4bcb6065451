/*
 * config.h - `pinset monitor`'s configuration file (docs/monitor.md): one
 * JSON object, read with jansson and checked strictly: an unknown key, a
 * value of the wrong type or out of range is refused with the file, the
 * key's path ("alerts.webhook.retries") and the reason.
 *
 * Relative paths in the file are taken from the file's own directory.
 */
#ifndef PINSET_MONITOR_CONFIG_H
#define PINSET_MONITOR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define MON_CONFIG_MAX      ((size_t)1024 * 1024) /* bytes of the file */
#define MON_MAX_INVENTORIES 64
#define MON_MAX_TARGETS     64 /* targets files per inventory */
#define MON_MAX_ARGV        32 /* words of the command hook */
#define MON_MAX_MAPS        256
#define MON_MAX_CT_LOGS     64

/* One policy and the hosts it is checked against (the policy's own hosts when no file). */
typedef struct mon_inventory {
    char *policy;
    char *targets[MON_MAX_TARGETS];
    size_t ntargets;
} mon_inventory;

/* A Certificate Transparency log watched each round (ct_watch_pass, src/ct/watch.h). */
typedef struct mon_ct_log {
    char *url;    /* RFC 6962: the log's base; static: its monitoring prefix */
    char *key;    /* the log's public key (PEM file) */
    char *origin; /* static: the checkpoint origin; NULL: the URL without scheme */
    int api;      /* ct_api: 0 rfc6962, 1 static */
} mon_ct_log;

typedef struct mon_config {
    mon_inventory inv[MON_MAX_INVENTORIES];
    size_t ninv;
    unsigned int interval;       /* seconds between round starts */
    unsigned int round_deadline; /* seconds a round may take before it is abandoned */
    unsigned int stop_deadline;  /* seconds SIGTERM waits for the round in progress */
    /* probes */
    unsigned int timeout, connect_timeout, concurrency; /* seconds, seconds, hosts */
    char *cafile, *capath;
    char *connect_to[MON_MAX_MAPS]; /* curl syntax, as --connect-to */
    size_t nconnect_to;
    /* expiry thresholds, whole days (-1: no alert) */
    long leaf_days, pins_days, rule_days;
    /* alert sinks */
    char *webhook_url;
    unsigned int webhook_retries, webhook_backoff_ms, webhook_timeout;
    unsigned int webhook_give_up;    /* seconds after the alert's round: no attempt after it */
    char *command[MON_MAX_ARGV + 1]; /* NULL-terminated */
    unsigned int command_timeout;
    char *jsonl;
    /* service */
    char *listen;             /* NULL: no HTTP */
    char *tls_cert, *tls_key; /* PEM files: HTTPS on listen (both or neither) */
    char *db;                 /* a SQLite path or postgres:// URL */
    unsigned long shard_i, shard_n;
    /* CT: logs read once per round against ct_policy (default: the first inventory's) */
    mon_ct_log ct[MON_MAX_CT_LOGS];
    size_t nct;
    char *ct_state, *ct_policy; /* ct_state NULL: the positions are the store's (ct_positions) */
    unsigned int ct_batch, ct_timeout;
} mon_config;

/*
 * Read and check FILE. Returns 0 with *cfg filled (release with
 * mon_config_free), or -1 with "FILE: PATH: reason" (or FILE:LINE:COL for
 * bad JSON) in err.
 */
int mon_config_load(mon_config *cfg, const char *path, char *err, size_t cap);
void mon_config_free(mon_config *cfg);
/* "I/N" into i and n (0 <= I < N <= 1000000). 0 or -1. */
int mon_parse_shard(const char *s, unsigned long *i, unsigned long *n);

#endif /* PINSET_MONITOR_CONFIG_H */
