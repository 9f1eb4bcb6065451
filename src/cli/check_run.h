/*
 * check_run.h - `pinset check` in parts: the probe round with pinset's
 * verdict hook (check_run.c), the outputs (check_emit.c: text, JSON,
 * Prometheus, Nagios) and the command line (cmd_check.c). What one host gave
 * is a host_report; a round is a check_run.
 */
#ifndef PINSET_CLI_CHECK_RUN_H
#define PINSET_CLI_CHECK_RUN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pinset/openssl.h>

#include "check_out.h"
#include "netopt.h"
#include "out.h"
#include "outfile.h"
#include "probe/probe.h"
#include "targets.h"

/* In the order of check_formats. */
enum check_format { FMT_TEXT, FMT_JSON, FMT_JSONL, FMT_PROM, FMT_NAGIOS };

/* The per-host results, in the order of the output. */
enum outcome { R_PASS, R_FAIL, R_REPORT_ONLY_FAIL, R_NOT_PINNED, R_EXPIRED_OPEN, R_ERROR, R_N };
extern const char *const check_outcome_names[R_N];

/* An expiry under --warning or --critical. */
enum alert { A_NONE, A_WARNING, A_CRITICAL };
extern const char *const check_alert_names[3];

/* Monitoring Plugins states, which are also the exit status with --format nagios. */
enum { NG_OK = 0, NG_WARNING = 1, NG_CRITICAL = 2, NG_UNKNOWN = 3 };

/* What one host gave; kept small (no OpenSSL objects) so that large inventories fit. */
typedef struct host_report {
    const probe_target *t;
    probe_status status;
    char error[256];
    char address[64];
    char protocol[16];
    int has_verdict;
    pinset_verdict verdict;
    pinset_reason reason;
    const pinset_rule *rule; /* borrowed from the policy */
    pinset_match match;
    pinset_mode mode;
    int rule_expired;
    int matched;
    size_t pin_index, depth;
    int validated;
    long verify_error;
    int accepted; /* the handshake completed and the gate let it through */
    char explain[512];
    chk_rotation rot;
    int64_t leaf_not_after; /* 0 = no leaf seen */
    enum outcome outcome;
    enum alert alert; /* the leaf or the rule's pins expire under a threshold */
    int aborted;      /* the hook failed the handshake (a FAIL verdict or an invalid chain) */
    char *served;     /* the validated chain's subjects and spki pins (chk_served_text), or NULL */
    char leaf_spki[48]; /* base64 spki pin of the validated chain's leaf, "" when none (monitor) */
} host_report;

typedef struct check_run {
    pinset_policy *policy;
    const char *policy_path;
    pinset_ossl *pin;
    pinset_result *tmp; /* scratch for the rotation analysis */
    const probe_target *targets;
    SSL **ssl;          /* by target index: the SSL of the probe in flight (a reference) */
    SSL_CTX *ctx;       /* the client context with the hook (check_probe) */
    host_report *hosts; /* by target index */
    size_t n, done;
    int64_t now;
    int text;    /* text output: keep what only it prints (the served chains) */
    int verbose; /* -v: every host's served chain */
    int oom;
} check_run;

typedef struct check_args {
    netopt net; /* net.po: the probe options; net.now: 0 for the current time */
    enum check_format fmt;
    const char *policy;
    const char *targets_file;
    const char **hosts;
    size_t nhosts;
    unsigned long shard_i, shard_n;
    int strict;
    out_color_mode color;      /* --color */
    int quiet, verbose;        /* -q, -v (text) */
    long warn_days, crit_days; /* --warning, --critical; -1 when not given */
    const char *output;        /* --output FILE, or NULL for standard output */
    outfile of;                /* --output: its temporary, open from the start of the run */
    int nagios;                /* --format nagios was asked for (known before parsing ends) */
    char why[512];             /* the reason a run ended early, for the nagios status line */
    const char *cmd;           /* the command named in messages ("monitor"); NULL: "check" */
} check_args;

/* ---- check_run.c: the round ---- */

/* An error that ends the run: "pinset: check: msg" on stderr, the message kept for nagios. */
void check_run_error(check_args *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/*
 * Probe tl's targets through a TLS context carrying the verdict hook and fill
 * run->hosts (by target index). run->policy, now, text and verbose are set by
 * the caller. Returns -1 when every host has its report, else an exit status
 * after check_run_error. Release with check_run_release in either case.
 */
int check_probe(check_run *run, check_args *a, const target_list *tl);
/* Free what check_probe allocated (not the policy). */
void check_run_release(check_run *run);

/* Sort by (host, port, addresses), drop duplicates, keep index mod sn == si. */
void check_sort_and_shard(target_list *tl, unsigned long si, unsigned long sn);
/* One target per rule of the policy that is not an exclusion, port 443. */
int check_targets_from_policy(target_list *tl, const pinset_policy *p, char *err, size_t cap);

/* ---- check_emit.c: the outputs ---- */

/* Whether the host could not be checked (an outage, no verdict). */
int check_host_unchecked(const host_report *h);
/* The leaf's or the rule's pins' expiry under --warning / --critical. */
enum alert check_alert_of(const host_report *h, const check_args *a, int64_t now);
/* The Monitoring Plugins state of the whole run. */
int check_ng_state(const check_run *run, const check_args *a);
/* Write the results in a->fmt to f; 0, or -1 when writing failed. */
int check_emit(FILE *f, const check_run *run, const check_args *a, const size_t counts[R_N],
               int state);
/* Prometheus: a label value escaped (\\, \", \n), and the result label's values by outcome. */
void check_prom_label(FILE *f, const char *s);
/* Prometheus: a metric's # HELP and # TYPE lines (type "gauge" or "counter"). */
void check_prom_head(FILE *f, const char *name, const char *type, const char *help);
extern const char *const check_prom_results[R_N];
/* The nagios status line of a run that could not happen (UNKNOWN). */
void check_emit_nagios_error(const char *why);

#endif /* PINSET_CLI_CHECK_RUN_H */
