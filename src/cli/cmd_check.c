/*
 * cmd_check.c - pinset check: would the pinned clients accept these servers right now?
 *
 * The command line, the targets and the exit status; the probe round is
 * check_run.c and the outputs check_emit.c (check_run.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_run.h"
#include "cmd.h"
#include "common.h"

enum check_opt {
    O_POLICY,
    O_TARGETS,
    O_RESOLVE,
    O_CONNECT_TO,
    O_CAFILE,
    O_CAPATH,
    O_TIMEOUT,
    O_CONNECT_TIMEOUT,
    O_CONCURRENCY,
    O_SHARD,
    O_NOW,
    O_FORMAT,
    O_STRICT,
    O_WARNING,
    O_CRITICAL,
    O_OUTPUT,
    O_COLOR,
    O_QUIET,
    O_VERBOSE,
    O_IPV4,
    O_IPV6,
    O_END
};

static const opt_spec check_opts[] = {
    [O_POLICY] = {"policy", 'p', "FILE", "the pin policy, in any format pinset reads; required"},
    [O_TARGETS] = {"targets", 0, "FILE", "hosts to check, one 'HOST[:PORT] [ADDRESS]' a line"},
    [O_RESOLVE] = NETOPT_RESOLVE,
    [O_CONNECT_TO] = NETOPT_CONNECT_TO,
    [O_CAFILE] = NETOPT_CAFILE,
    [O_CAPATH] = NETOPT_CAPATH,
    [O_TIMEOUT] = NETOPT_TIMEOUT,
    [O_CONNECT_TIMEOUT] = NETOPT_CONNECT_TIMEOUT,
    [O_CONCURRENCY] = NETOPT_CONCURRENCY,
    [O_SHARD] = {"shard", 0, "I/N", "check only the hosts whose index mod N is I (0 <= I < N)"},
    [O_NOW] = NETOPT_NOW,
    [O_FORMAT] = NETOPT_FORMAT("text (default), json, jsonl, prometheus or nagios"),
    [O_STRICT] = {"strict", 0, NULL, "a report-only pin mismatch makes the exit status 1"},
    [O_WARNING] = {"warning", 'w', "DAYS", "a leaf or pin expiring in under DAYS days: WARNING"},
    [O_CRITICAL] = {"critical", 'c', "DAYS", "a leaf or pin expiring in under DAYS days: CRITICAL"},
    [O_OUTPUT] = {"output", 'o', "FILE", "write the output to FILE atomically (temporary, rename)"},
    [O_COLOR] = OUT_OPT_COLOR,
    [O_QUIET] = {"quiet", 'q', NULL,
                 "text: list only the hosts that do not PASS, then the summary"},
    [O_VERBOSE] = {"verbose", 'v', NULL,
                   "text: show the served chain of every host, not only failing ones"},
    [O_IPV4] = NETOPT_IPV4,
    [O_IPV6] = NETOPT_IPV6,
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_check_spec = {
    "check", "--policy FILE [options] [HOST[:PORT]...]",
    "Probe servers and check each against its pin policy rule, as a pinned client would.",
    check_opts};

static const char *const check_formats[] = {"text", "json", "jsonl", "prometheus", "nagios", NULL};

/* ---- the command line ---- */

static int parse_shard(const char *s, unsigned long *i, unsigned long *n)
{
    const char *slash = strchr(s, '/');
    char a[16];
    size_t len;

    if (slash == NULL || (len = (size_t)(slash - s)) == 0 || len >= sizeof(a)) {
        return -1;
    }
    memcpy(a, s, len);
    a[len] = '\0';
    if (opt_parse_uint(a, 1000000, i) != 0 || opt_parse_uint(slash + 1, 1000000, n) != 0 ||
        *n == 0 || *i >= *n) {
        return -1;
    }
    return 0;
}

/* A usage error (exit 2): the message and usage on stderr, the message kept for nagios. */
static int usage(check_args *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int usage(check_args *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(a->why, sizeof(a->why), fmt, ap);
    va_end(ap);
    return opt_usage_error(&cmd_check_spec, "%s", a->why);
}

/* --warning / --critical: whole days, 0 to 36500. */
static int parse_days(check_args *a, const char *name, const char *v, long *out)
{
    unsigned long u;

    if (opt_parse_uint(v, 36500, &u) != 0) {
        return usage(a, "--%s '%s': expected whole days, 0 to 36500", name, v);
    }
    *out = (long)u;
    return -1;
}

static int parse_opt(check_args *a, int r, const char *v)
{
    switch (r) {
    case O_POLICY:
        a->policy = v;
        return -1;
    case O_TARGETS:
        a->targets_file = v;
        return -1;
    case O_SHARD:
        if (parse_shard(v, &a->shard_i, &a->shard_n) != 0) {
            return usage(a, "--shard '%s': expected I/N with 0 <= I < N <= 1000000", v);
        }
        return -1;
    case O_STRICT:
        a->strict = 1;
        return -1;
    case O_COLOR:
        if (out_color_parse(v, &a->color) != 0) {
            return usage(a, "--color '%s': expected auto, never or always", v);
        }
        return -1;
    case O_QUIET:
        a->quiet = 1;
        return -1;
    case O_VERBOSE:
        a->verbose = 1;
        return -1;
    case O_WARNING:
        return parse_days(a, "warning", v, &a->warn_days);
    case O_CRITICAL:
        return parse_days(a, "critical", v, &a->crit_days);
    case O_OUTPUT:
        a->output = v;
        return -1;
    default:
        return netopt_exit(r);
    }
}

/*
 * Whether the command line asks for --format nagios (the last --format wins),
 * read before parsing so that a usage error anywhere still gets its status
 * line. Uses the option table to skip option values, and stops at "--".
 */
static int wants_nagios(int argc, char **argv)
{
    int nagios = 0;

    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v = NULL;
        const opt_spec *o = NULL;

        if (strcmp(s, "--") == 0) {
            break;
        }
        for (const opt_spec *p = check_opts; p->name != NULL && s[0] == '-'; p++) {
            size_t n = strlen(p->name);
            if (s[1] == '-' && strncmp(s + 2, p->name, n) == 0 &&
                (s[2 + n] == '\0' || s[2 + n] == '=')) {
                o = p;
                v = s[2 + n] == '=' ? s + 3 + n : NULL;
            } else if (s[1] != '-' && s[1] != '\0' && s[1] == p->short_name) {
                o = p;
                v = s[2] != '\0' ? s + 2 : NULL;
            }
            if (o != NULL) {
                break;
            }
        }
        if (o == NULL || o->arg == NULL) {
            continue;
        }
        if (v == NULL && i + 1 < argc) {
            v = argv[++i];
        }
        if (o == &check_opts[O_FORMAT] && v != NULL) {
            nagios = strcmp(v, "nagios") == 0;
        }
    }
    return nagios;
}

/* Parse the command line; returns -1 to go on, or an exit status. */
static int parse_args(check_args *a, int argc, char **argv)
{
    opt_state st;
    const char *v;
    int r, rc;

    opt_init(&st, argc, argv);
    while ((r = netopt_next(&st, &cmd_check_spec, &a->net, &v)) != OPT_END) {
        if (r == OPT_HELP) {
            opt_print_help(&cmd_check_spec);
            return EXIT_OK;
        }
        if (r == OPT_POSITIONAL) {
            a->hosts[a->nhosts++] = v;
            continue;
        }
        rc = parse_opt(a, r, v);
        if (rc >= 0) {
            if (a->why[0] == '\0') {
                /* the option parser's own message ("unknown option '--polcy'; did you mean...") */
                const char *u = opt_last_usage();
                snprintf(a->why, sizeof(a->why), "%s%s%s", u,
                         u[0] == '\0'       ? "usage error "
                         : rc == EXIT_USAGE ? " "
                                            : "",
                         rc == EXIT_USAGE || u[0] == '\0' ? "(see pinset check --help)" : "");
            }
            return rc;
        }
    }
    if (a->policy == NULL) {
        return usage(a, "--policy FILE is required");
    }
    if (a->warn_days >= 0 && a->crit_days > a->warn_days) {
        return usage(a, "--critical %ld is more than --warning %ld: expected critical <= warning",
                     a->crit_days, a->warn_days);
    }
    a->fmt = (enum check_format)a->net.format;
    return -1;
}

/* ---- the run ---- */

static int exit_status(const check_run *run, const size_t counts[R_N], int strict)
{
    if (counts[R_FAIL] > 0 || (strict && counts[R_REPORT_ONLY_FAIL] > 0)) {
        return EXIT_NEGATIVE; /* a security finding outranks an outage */
    }
    for (size_t i = 0; i < run->n; i++) {
        if (check_host_unchecked(&run->hosts[i])) {
            return EXIT_NETWORK;
        }
    }
    return EXIT_OK;
}

static void warn_hosts(const check_run *run, const check_args *a)
{
    const char *soft = a->fmt == FMT_NAGIOS ? " (WARNING; use --strict to make it CRITICAL)"
                                            : " (exit status 0; use --strict to fail)";

    for (size_t i = 0; i < run->n; i++) {
        const host_report *h = &run->hosts[i];
        if (h->outcome == R_REPORT_ONLY_FAIL) {
            cli_err("check", "%s:%u: report-only pin mismatch: the rule is in report mode%s",
                    h->t->host, (unsigned int)h->t->port, a->strict ? "" : soft);
        } else if (check_host_unchecked(h)) {
            char msg[256];
            out_safe_copy(msg, sizeof(msg), h->error);
            cli_err("check", "%s:%u: not checked: %s", h->t->host, (unsigned int)h->t->port, msg);
        }
    }
}

/*
 * Write the results to standard output, or to --output's temporary and rename it over FILE.
 * 0, or an exit status after a message (FILE is then left as it was).
 */
static int write_results(const check_run *run, check_args *a, const size_t counts[R_N], int state)
{
    char err[512];

    if (check_emit(a->output != NULL ? a->of.f : stdout, run, a, counts, state) != 0) {
        if (a->output == NULL) {
            return cli_output_failed("check"); /* quietly by SIGPIPE when the reader has gone */
        }
        int e = errno;
        char name[256];
        out_safe_copy(name, sizeof(name), a->output);
        if (e != 0) {
            check_run_error(a, "cannot write %s: %s", name, strerror(e));
        } else {
            check_run_error(a, "cannot write %s", name);
        }
        return EXIT_INTERNAL; /* cmd_check removes the temporary */
    }
    if (a->output != NULL && outfile_commit(&a->of, err, sizeof(err)) != 0) {
        check_run_error(a, "%s", err);
        return EXIT_INTERNAL;
    }
    return 0;
}

/* --output: create the temporary before anything is probed, so that a bad path costs nothing. */
static int open_output(check_args *a)
{
    char err[512];

    if (a->output != NULL && outfile_open(&a->of, a->output, err, sizeof(err)) != 0) {
        check_run_error(a, "%s", err);
        return EXIT_INPUT;
    }
    return 0;
}

/* Probe, judge and write. Returns the exit status; *done is 1 once the results are written. */
static int run_check(check_run *run, check_args *a, const target_list *tl, int *done)
{
    size_t counts[R_N] = {0};
    int rc, state, wr;

    rc = check_probe(run, a, tl);
    if (rc >= 0) {
        goto out;
    }
    for (size_t i = 0; i < run->n; i++) {
        counts[run->hosts[i].outcome]++;
        run->hosts[i].alert = check_alert_of(&run->hosts[i], a, run->now);
    }
    state = check_ng_state(run, a);
    rc = a->fmt == FMT_NAGIOS ? state : exit_status(run, counts, a->strict);
    warn_hosts(run, a);
    wr = write_results(run, a, counts, state);
    if (wr != 0) {
        rc = wr; /* the output could not be written */
        goto out;
    }
    *done = 1;
out:
    check_run_release(run);
    return rc;
}

static int collect_targets(check_args *a, const pinset_policy *policy, target_list *tl)
{
    char err[512];

    for (size_t i = 0; i < a->nhosts; i++) {
        if (targets_add(tl, a->hosts[i], NULL, NULL, 443, err, sizeof(err)) != 0) {
            check_run_error(a, "%s", err);
            return EXIT_INPUT;
        }
    }
    if (a->targets_file != NULL &&
        targets_load_file(tl, a->targets_file, NULL, 443, err, sizeof(err)) != 0) {
        check_run_error(a, "%s", err);
        return EXIT_INPUT;
    }
    if (a->nhosts == 0 && a->targets_file == NULL &&
        check_targets_from_policy(tl, policy, err, sizeof(err)) != 0) {
        check_run_error(a, "%s", err);
        return EXIT_INPUT;
    }
    check_sort_and_shard(tl, a->shard_i, a->shard_n);
    if (targets_apply_map(tl, a->net.map, err, sizeof(err)) != 0) {
        check_run_error(a, "%s", err);
        return EXIT_INTERNAL;
    }
    return -1;
}

static int load_policy(check_args *a, check_run *run)
{
    char msg[sizeof(a->why) - 32];
    int rc = chk_load_policy_msg("check", a->policy, NULL, &run->policy, msg, sizeof(msg));

    if (rc != 0) {
        snprintf(a->why, sizeof(a->why), "cannot read policy %s", msg);
    }
    return rc;
}

int cmd_check(int argc, char **argv)
{
    check_args a;
    check_run run;
    target_list tl = TARGET_LIST_INIT;
    int rc, done = 0;

    memset(&a, 0, sizeof(a));
    memset(&run, 0, sizeof(run));
    a.shard_n = 1;
    a.warn_days = a.crit_days = -1;
    a.nagios = wants_nagios(argc, argv);
    a.hosts = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*a.hosts));
    if (netopt_init(&a.net, check_formats) != 0 || a.hosts == NULL) {
        check_run_error(&a, "out of memory");
        rc = EXIT_INTERNAL;
        goto out;
    }
    rc = parse_args(&a, argc, argv);
    if (rc >= 0) {
        done = rc == EXIT_OK; /* --help */
        goto out;
    }
    a.nagios = a.fmt == FMT_NAGIOS;
    rc = open_output(&a);
    if (rc != 0) {
        goto out;
    }
    rc = load_policy(&a, &run);
    if (rc != 0) {
        goto out;
    }
    run.policy_path = a.policy;
    run.now = a.net.now != 0 ? a.net.now : (int64_t)time(NULL); /* one instant for every host */
    run.text = a.fmt == FMT_TEXT;
    run.verbose = a.verbose;
    rc = collect_targets(&a, run.policy, &tl);
    if (rc >= 0) {
        goto out;
    }
    if (tl.count == 0 && a.shard_n == 1) {
        check_run_error(&a, "no host to check: the policy names none and none was given");
        rc = EXIT_USAGE;
        goto out;
    }
    rc = run_check(&run, &a, &tl, &done);
out:
    if (a.nagios && !done) {
        /* Monitoring Plugins: one status line even when the check could not run */
        check_emit_nagios_error(a.why);
        rc = NG_UNKNOWN;
    }
    outfile_abort(&a.of); /* a run that failed leaves FILE as it was; no-op once committed */
    targets_free(&tl);
    netopt_free(&a.net);
    pinset_policy_free(run.policy);
    free(a.hosts);
    return rc;
}
