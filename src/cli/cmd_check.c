/*
 * cmd_check.c - pinset check: would the pinned clients accept these servers right now?
 *
 * Each host is probed by the probe engine (probe.h) through a TLS context that
 * carries pinset's own OpenSSL verdict hook (pinset_ossl_attach): the verdict
 * is the one the cert-verify callback of a pinned client records, over the
 * chain OpenSSL validated, and the post-handshake gate (pinset_ossl_check)
 * says whether the client would go on. The probe's on_ssl hook takes a
 * reference to each SSL so that the recorded result can be read after the
 * engine is done with the connection (also when the hook failed the
 * handshake). Nothing here decides whether a pin matches; the rotation
 * analysis (check_out.c) asks pinset_check_pins about modified chains.
 *
 * What this relies on in probe.h (for `probe`): on_ssl is called before each
 * handshake with a pointer into the target array given to
 * probe_engine_run; with opts.ctx set, the engine installs no verify
 * callback of its own, so the context's SSL_VERIFY_PEER and pinset's
 * cert-verify callback decide. tests/integration/test_check_live.sh breaks
 * if either changes.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include <pinset/openssl.h>

#include "check_out.h"
#include "cmd.h"
#include "common.h"
#include "netopt.h"
#include "out.h"
#include "outfile.h"
#include "probe/probe.h"
#include "targets.h"

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

/* In the order of check_formats. */
enum check_format { FMT_TEXT, FMT_JSON, FMT_JSONL, FMT_PROM, FMT_NAGIOS };
static const char *const check_formats[] = {"text", "json", "jsonl", "prometheus", "nagios", NULL};

/* The per-host results, in the order of the output. */
enum outcome { R_PASS, R_FAIL, R_REPORT_ONLY_FAIL, R_NOT_PINNED, R_EXPIRED_OPEN, R_ERROR, R_N };
static const char *const outcome_names[R_N] = {"PASS",       "FAIL",         "REPORT_ONLY_FAIL",
                                               "NOT_PINNED", "EXPIRED_OPEN", "ERROR"};

/* An expiry under --warning or --critical. */
enum alert { A_NONE, A_WARNING, A_CRITICAL };
static const char *const alert_names[] = {NULL, "warning", "critical"};

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
} host_report;

typedef struct check_run {
    pinset_policy *policy;
    const char *policy_path;
    pinset_ossl *pin;
    pinset_result *tmp; /* scratch for the rotation analysis */
    const probe_target *targets;
    SSL **ssl;          /* by target index: the SSL of the probe in flight (a reference) */
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
} check_args;

/* ---- probing with the verdict hook ---- */

static int64_t run_clock(void *payload)
{
    const check_run *run = payload;

    return run->now;
}

static int on_ssl(SSL *ssl, const probe_target *t, void *payload)
{
    check_run *run = payload;
    size_t i = (size_t)(t - run->targets);

    if (i >= run->n || SSL_up_ref(ssl) != 1) {
        return -1;
    }
    SSL_free(run->ssl[i]); /* an earlier attempt's, if any */
    run->ssl[i] = ssl;
    return pinset_ossl_set_port(run->pin, ssl, t->port) == PINSET_OK ? 0 : -1;
}

/*
 * The host's result. No verdict: the handshake ended before the certificate
 * was checked (ERROR). A chain that does not validate, or a verdict that does
 * not allow the connection, is FAIL.
 */
static enum outcome outcome_of(const host_report *h)
{
    if (!h->has_verdict) {
        return R_ERROR;
    }
    if (!h->validated || h->verdict == PINSET_VERDICT_FAIL || h->verdict == PINSET_VERDICT_NONE ||
        !pinset_verdict_allows(h->verdict)) {
        return R_FAIL; /* a chain that does not validate is a finding in every mode */
    }
    if (h->status == PROBE_OK && !h->accepted) {
        return R_FAIL; /* the gate refused what the callback allowed: a pinned client stops */
    }
    if (h->status != PROBE_OK) {
        return R_ERROR; /* the pins passed, the handshake failed later: no client gets through */
    }
    switch (h->verdict) {
    case PINSET_VERDICT_PASS:
        return R_PASS;
    case PINSET_VERDICT_REPORT_ONLY_FAIL:
        return R_REPORT_ONLY_FAIL;
    case PINSET_VERDICT_NOT_PINNED:
        return R_NOT_PINNED;
    case PINSET_VERDICT_EXPIRED_OPEN:
        return R_EXPIRED_OPEN;
    case PINSET_VERDICT_NONE:
    case PINSET_VERDICT_FAIL:
    default:
        return R_FAIL;
    }
}

/* The leaf the server sent; after a failed handshake OpenSSL keeps it only in the chains. */
static X509 *leaf_of(SSL *ssl)
{
    STACK_OF(X509) * sk;

    if (SSL_get0_peer_certificate(ssl) != NULL) {
        return SSL_get0_peer_certificate(ssl);
    }
    sk = SSL_get0_verified_chain(ssl);
    if (sk == NULL || sk_X509_num(sk) == 0) {
        sk = SSL_get_peer_cert_chain(ssl);
    }
    return sk != NULL && sk_X509_num(sk) > 0 ? sk_X509_value(sk, 0) : NULL;
}

static void read_verdict(host_report *h, check_run *run, SSL *ssl, const pinset_result *pr)
{
    long vr = SSL_get_verify_result(ssl);
    X509 *leaf = leaf_of(ssl);

    h->has_verdict = 1;
    h->verdict = pinset_result_verdict(pr);
    h->reason = pinset_result_reason(pr);
    h->rule = pinset_result_rule(pr);
    h->match = pinset_result_match(pr);
    h->mode = pinset_result_mode(pr);
    h->rule_expired = pinset_result_rule_expired(pr);
    h->matched = pinset_result_matched(pr, &h->pin_index, &h->depth);
    if (pinset_result_explain(h->explain, sizeof(h->explain), pr) != PINSET_OK) {
        h->explain[0] = '\0';
    }
    /*
     * The hook turns a pin failure over a valid path into
     * X509_V_ERR_APPLICATION_VERIFICATION; the path itself failed only when
     * OpenSSL says so otherwise (the library's reason is then path-invalid).
     */
    h->verify_error = vr;
    h->validated = h->reason != PINSET_REASON_PATH_INVALID &&
                   (vr == X509_V_OK || vr == X509_V_ERR_APPLICATION_VERIFICATION);
    /* rotation readiness is a question about a host that passes today */
    if (h->validated && h->verdict == PINSET_VERDICT_PASS &&
        chk_rotation_analyse(&h->rot, run->tmp, run->policy, pr, run->now) != 0) {
        run->oom = 1;
    }
    h->leaf_not_after = leaf != NULL ? chk_cert_not_after(leaf) : 0;
    if (h->validated && run->text &&
        (run->verbose || (pinset_result_verdict(pr) != PINSET_VERDICT_PASS &&
                          pinset_result_verdict(pr) != PINSET_VERDICT_NOT_PINNED &&
                          pinset_result_verdict(pr) != PINSET_VERDICT_EXPIRED_OPEN))) {
        h->served = chk_served_text(SSL_get0_verified_chain(ssl), pr, "              ");
        run->oom |= h->served == NULL && pinset_result_chain_len(pr) > 0;
    }
    if (h->status == PROBE_OK) {
        h->accepted = pinset_ossl_check(run->pin, ssl) == PINSET_OK;
    }
}

static void on_result(probe_result *res, void *payload)
{
    check_run *run = payload;
    host_report *h = &run->hosts[res->index];
    SSL *ssl = run->ssl[res->index];
    const pinset_result *pr = ssl != NULL ? pinset_ossl_result(run->pin, ssl) : NULL;

    run->ssl[res->index] = NULL;
    h->t = res->target;
    h->status = res->status;
    snprintf(h->error, sizeof(h->error), "%s", res->error);
    snprintf(h->address, sizeof(h->address), "%s", res->address);
    snprintf(h->protocol, sizeof(h->protocol), "%s", res->status == PROBE_OK ? res->protocol : "");
    /* a NONE verdict with reason none or not-checked: the cert-verify callback never ran */
    if (pr != NULL && (pinset_result_verdict(pr) != PINSET_VERDICT_NONE ||
                       (pinset_result_reason(pr) != PINSET_REASON_NONE &&
                        pinset_result_reason(pr) != PINSET_REASON_NOT_CHECKED))) {
        read_verdict(h, run, ssl, pr);
    } else {
        /* not checked: still say which rule would have applied (the library's lookup) */
        h->rule = pinset_policy_lookup(run->policy, h->t->host, strlen(h->t->host), &h->match);
        h->mode = h->rule != NULL ? pinset_rule_mode(h->rule) : PINSET_MODE_ENFORCE;
    }
    h->outcome = outcome_of(h);
    /* the hook failed the handshake on purpose: the verdict says why, it is no outage */
    h->aborted = h->has_verdict && h->status == PROBE_E_HANDSHAKE &&
                 (!h->validated || !pinset_verdict_allows(h->verdict));
    SSL_free(ssl);
    ERR_clear_error();
    run->done++;
    if (out_progress_enabled()) {
        out_progress("check: %zu/%zu hosts", run->done, run->n);
    }
}

/* ---- text ---- */

static void print_pin_ref(FILE *f, const pinset_rule *rule, size_t i)
{
    const pinset_pin *p = pinset_rule_pin(rule, i);
    const char *label = pinset_rule_pin_label(rule, i);

    fprintf(f, "[%zu] ", i);
    if (label != NULL) {
        fprintf(f, "\"");
        out_safe(f, label);
        fprintf(f, "\" ");
    }
    fprintf(f, "(%s, role %s)", chk_kind_name(p->kind),
            pinset_role_name(pinset_rule_pin_role(rule, i)));
}

static void print_days(FILE *f, const char *what, int64_t t, int64_t now)
{
    char iso[OUT_TIME_MAX];
    int64_t d;

    if (t == 0) {
        fprintf(f, "%s never", what);
        return;
    }
    d = chk_days(t, now);
    chk_time_text(iso, sizeof(iso), t);
    if (d < 0) {
        fprintf(f, "%s expired %lld days ago (%s)", what, (long long)-d, iso);
    } else {
        fprintf(f, "%s in %lld days (%s)", what, (long long)d, iso);
    }
}

static void print_rotation(FILE *f, const host_report *h)
{
    const chk_rotation *r = &h->rot;

    fprintf(f, "  rotation:   %s: ", r->ready ? "ready" : "NOT READY");
    if (r->backup_pins > 0) {
        fprintf(f, "%zu backup pin%s not in the live chain, first ", r->backup_pins,
                r->backup_pins == 1 ? "" : "s");
        print_pin_ref(f, h->rule, r->first_backup);
    } else {
        fprintf(f, "no backup pin: every pin is in the live chain, expired or a retired leaf key "
                   "(RFC 7469 section 4.3)");
    }
    if (r->backup_live > 0) {
        fprintf(f, "\n              the declared backup ");
        print_pin_ref(f, h->rule, r->first_backup_live);
        fprintf(f, " is live now, so it is a backup no more: generate a new backup key, keep it "
                   "offline, and pin it with role backup");
    }
    fprintf(f, "\n              a new leaf key %s",
            r->new_leaf_passes ? "passes (a pin matches a CA of the chain)"
                               : "would FAIL (no pin above the leaf matches)");
    if (!r->new_leaf_passes) {
        fprintf(f, "; %s",
                r->backup_leaf_passes ? "a new leaf on the backup key passes"
                                      : "no backup key would pass as the leaf");
    }
    fprintf(f, "\n");
}

static void print_host_text(FILE *f, const host_report *h, const check_run *run,
                            const check_args *a, int color)
{
    const probe_target *t = h->t;
    const char *result = outcome_names[h->outcome];
    const pinset_rule *near_rule = NULL;
    char near[256];
    int64_t now = run->now;

    out_safe(f, t->host);
    fprintf(f, ":%u", (unsigned int)t->port);
    if (h->address[0] != '\0') {
        fprintf(f, " (%s)", h->address);
    }
    fprintf(f, ": %s%s%s\n", out_sgr(color, out_result_style(result)), result,
            out_sgr_reset(color));
    if (h->rule == NULL) { /* only here: text alone says it, after the probes are done */
        near_rule = chk_near_host(near, sizeof(near), run->policy, t->host);
    }
    if (near_rule != NULL) {
        fprintf(f, "  hint:       no rule covers this host; did you mean '");
        out_safe(f, near);
        fprintf(f, "' (rules[%zu] \"", pinset_rule_index(near_rule));
        out_safe(f, pinset_rule_host(near_rule));
        fprintf(f, "\")?\n");
    }
    if (h->status != PROBE_OK && !h->aborted) {
        fprintf(f, "  error:      ");
        out_safe(f, h->error);
        fprintf(f, "\n");
    }
    if (!h->has_verdict) {
        if (h->rule != NULL) {
            fprintf(f, "  rule:       rules[%zu] \"", pinset_rule_index(h->rule));
            out_safe(f, pinset_rule_host(h->rule));
            fprintf(f, "\" (%s, %s); not checked\n", pinset_match_name(h->match),
                    pinset_mode_name(h->mode));
        }
        fprintf(f, "\n");
        return;
    }
    if (!h->validated) {
        fprintf(f, "  validation: FAILED: %s (pins are matched only against a validated chain)\n",
                X509_verify_cert_error_string(h->verify_error));
    }
    fprintf(f, "  verdict:    ");
    out_safe(f, h->explain);
    fprintf(f, "\n");
    if (h->rule != NULL) {
        fprintf(f, "  rule:       rules[%zu] \"", pinset_rule_index(h->rule));
        out_safe(f, pinset_rule_host(h->rule));
        fprintf(f, "\" (%s, %s%s)", pinset_match_name(h->match), pinset_mode_name(h->mode),
                h->rule_expired ? ", expired" : "");
        if (pinset_rule_pinset_name(h->rule) != NULL) {
            fprintf(f, ", pin-set ");
            out_safe(f, pinset_rule_pinset_name(h->rule));
        }
        fprintf(f, "\n");
    }
    if (h->served != NULL &&
        (a->verbose || h->outcome == R_FAIL || h->outcome == R_REPORT_ONLY_FAIL)) {
        fprintf(f, "  served:     %s", h->served); /* what no pin of the rule matched */
    }
    if (h->matched && h->rule != NULL && h->verdict == PINSET_VERDICT_PASS) {
        fprintf(f, "  matched:    pin ");
        print_pin_ref(f, h->rule, h->pin_index);
        fprintf(f, " at depth %zu\n", h->depth);
    }
    if (h->rot.analysed) {
        print_rotation(f, h);
    }
    fprintf(f, "  expiry:     ");
    print_days(f, "leaf", h->leaf_not_after, now);
    if (h->rule != NULL && !pinset_rule_is_exclusion(h->rule)) {
        fprintf(f, "; ");
        print_days(f, "rule", pinset_rule_expires(h->rule), now);
        if (h->rot.analysed) {
            fprintf(f, "; ");
            print_days(f, "pins", h->rot.pins_not_after, now);
        }
    }
    if (h->alert != A_NONE) {
        fprintf(f, "\n  alert:      %s: the leaf or a pin expires in fewer than %ld days",
                h->alert == A_CRITICAL ? "CRITICAL" : "WARNING",
                h->alert == A_CRITICAL ? a->crit_days : a->warn_days);
    }
    fprintf(f, "\n\n");
}

/* ---- JSON ---- */

static json_t *days_json(int64_t t, int64_t now)
{
    return t == 0 ? json_null() : json_integer((json_int_t)chk_days(t, now));
}

static json_t *iso_json(int64_t t)
{
    char buf[OUT_TIME_MAX];

    if (t == 0) {
        return json_null();
    }
    (void)out_time_iso(buf, sizeof(buf), t);
    return json_string(buf);
}

static json_t *matched_json(const host_report *h, int64_t now)
{
    json_t *p;

    if (!h->matched || h->rule == NULL || h->verdict != PINSET_VERDICT_PASS) {
        return json_null();
    }
    p = chk_pin_json(h->rule, h->pin_index, now);
    if (p != NULL && out_json_set(p, "depth", json_integer((json_int_t)h->depth)) != 0) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static json_t *host_json(const host_report *h, int64_t now)
{
    const probe_target *t = h->t;
    json_t *o = json_object();
    int v = h->has_verdict, bad = 0;
    int pinned = h->rule != NULL && !pinset_rule_is_exclusion(h->rule);

    if (o == NULL) {
        return NULL;
    }
    bad |= out_json_set(o, "target", out_json_str(t->name));
    bad |= out_json_set(o, "host", json_string(t->host));
    bad |= out_json_set(o, "port", json_integer(t->port));
    bad |= out_json_set(o, "address", h->address[0] ? json_string(h->address) : json_null());
    bad |= out_json_set(o, "status", json_string(probe_status_name(h->status)));
    bad |= out_json_set(o, "error", h->status != PROBE_OK ? out_json_str(h->error) : json_null());
    bad |= out_json_set(o, "result", json_string(outcome_names[h->outcome]));
    bad |=
        out_json_set(o, "verdict", v ? json_string(pinset_verdict_name(h->verdict)) : json_null());
    bad |= out_json_set(o, "reason", v ? json_string(pinset_reason_name(h->reason)) : json_null());
    bad |= out_json_set(o, "explain", v ? out_json_str(h->explain) : json_null());
    bad |= out_json_set(o, "validated", json_boolean(v && h->validated));
    bad |= out_json_set(o, "verify_error",
                        v && !h->validated
                            ? json_string(X509_verify_cert_error_string(h->verify_error))
                            : json_null());
    bad |= out_json_set(o, "client_accepts", json_boolean(h->status == PROBE_OK && h->accepted));
    bad |= out_json_set(o, "protocol", h->protocol[0] ? json_string(h->protocol) : json_null());
    bad |= out_json_set(o, "rule", chk_rule_json(h->rule));
    bad |= out_json_set(o, "match", json_string(pinset_match_name(h->match)));
    bad |= out_json_set(o, "mode", pinned ? json_string(pinset_mode_name(h->mode)) : json_null());
    bad |= out_json_set(o, "rule_expired", json_boolean(v && h->rule_expired));
    bad |= out_json_set(o, "matched_pin", matched_json(h, now));
    bad |= out_json_set(o, "rotation", chk_rotation_json(&h->rot, h->rule, now));
    bad |= out_json_set(o, "leaf_not_after", iso_json(h->leaf_not_after));
    bad |= out_json_set(o, "leaf_expiry_days", days_json(h->leaf_not_after, now));
    bad |= out_json_set(o, "rule_expiry_days",
                        pinned ? days_json(pinset_rule_expires(h->rule), now) : json_null());
    bad |= out_json_set(o, "pins_expiry_days",
                        h->rot.analysed ? days_json(h->rot.pins_not_after, now) : json_null());
    bad |= out_json_set(o, "expiry_alert",
                        h->alert != A_NONE ? json_string(alert_names[h->alert]) : json_null());
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- expiry thresholds (--warning, --critical) ---- */

/* The rule's earliest pin not_after, known for hosts whose rotation was analysed; 0 otherwise. */
static int64_t pins_not_after(const host_report *h)
{
    return h->rot.analysed ? h->rot.pins_not_after : 0;
}

/* Fewer than `days` whole days left before t (never for an unset threshold or no date). */
static int under(int64_t t, int64_t now, long days)
{
    return t != 0 && days >= 0 && chk_days(t, now) < days;
}

static enum alert alert_of(const host_report *h, const check_args *a, int64_t now)
{
    int64_t pins = pins_not_after(h);

    if (under(h->leaf_not_after, now, a->crit_days) || under(pins, now, a->crit_days)) {
        return A_CRITICAL;
    }
    if (under(h->leaf_not_after, now, a->warn_days) || under(pins, now, a->warn_days)) {
        return A_WARNING;
    }
    return A_NONE;
}

/* ---- Prometheus text exposition format (text/plain; version=0.0.4) ---- */

/* Values of the result label, in the order of enum outcome. */
static const char *const prom_results[R_N] = {"pass",       "fail",         "report_only_fail",
                                              "not_pinned", "expired_open", "error"};

/*
 * A label value as the exposition format escapes it: backslash, double quote
 * and line feed as \\, \" and \n. Other control bytes cannot occur in a
 * canonical host name; they are written as '?' all the same.
 */
static void prom_label(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == '"') {
            fprintf(f, "\\%c", c);
        } else if (c == '\n') {
            fputs("\\n", f);
        } else if (c < 0x20 || c == 0x7f) {
            fputc('?', f);
        } else {
            fputc(c, f);
        }
    }
}

static void prom_head(FILE *f, const char *name, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* name{host="...",port="..." and, when result is not NULL, ,result="..." */
static void prom_open(FILE *f, const char *name, const host_report *h, const char *result)
{
    fprintf(f, "%s{host=\"", name);
    prom_label(f, h->t->host);
    fprintf(f, "\",port=\"%u\",address=\"", (unsigned int)h->t->port);
    /* the addresses a targets line named: one host checked at each of its backends */
    for (size_t i = 0; i < h->t->naddrs; i++) {
        if (i > 0) {
            fputc(',', f);
        }
        prom_label(f, h->t->addrs[i]);
    }
    fputc('"', f);
    if (result != NULL) {
        fprintf(f, ",result=\"%s\"", result);
    }
}

static void prom_sample(FILE *f, const char *name, const host_report *h, long long value)
{
    prom_open(f, name, h, NULL);
    fprintf(f, "} %lld\n", value);
}

typedef enum prom_metric {
    M_UP,
    M_PASS,
    M_RESULT,
    M_READY,
    M_BACKUP,
    M_LEAF_EXPIRY,
    M_RULE_EXPIRY,
    M_PIN_EXPIRY,
    M_N
} prom_metric;

static const char *const prom_names[M_N][2] = {
    {"pinset_check_up", "1 when a verdict was reached for the host (it could be checked)"},
    {"pinset_check_pass", "1 when the host passed its pin check (result pass)"},
    {"pinset_check_result", "1 for the host's result, 0 for every other result (label result)"},
    {"pinset_check_rotation_ready",
     "1 when a backup pin outside the live chain exists and a leaf key rotation would pass"},
    {"pinset_check_backup_pins",
     "pins of the host's rule that are not in the live validated chain"},
    {"pinset_leaf_expiry_timestamp_seconds",
     "notAfter of the leaf certificate the host sent, in seconds since the Unix epoch"},
    {"pinset_rule_expiry_timestamp_seconds",
     "expiry of the host's policy rule, in seconds since the Unix epoch"},
    {"pinset_pin_expiry_timestamp_seconds",
     "earliest not_after among the pins of the host's rule, in seconds since the Unix epoch"},
};

static void prom_host(FILE *f, prom_metric m, const host_report *h)
{
    const char *name = prom_names[m][0];
    int pinned = h->rule != NULL && !pinset_rule_is_exclusion(h->rule);

    switch (m) {
    case M_UP:
        prom_sample(f, name, h, h->has_verdict);
        break;
    case M_PASS:
        prom_sample(f, name, h, h->outcome == R_PASS);
        break;
    case M_RESULT:
        /* every state, so that an alert can say `== 1` and a missing series means no host */
        for (int r = 0; r < R_N; r++) {
            prom_open(f, name, h, prom_results[r]);
            fprintf(f, "} %d\n", h->outcome == (enum outcome)r);
        }
        break;
    case M_READY:
        if (h->rot.analysed) {
            prom_sample(f, name, h, h->rot.ready);
        }
        break;
    case M_BACKUP:
        if (h->rot.analysed) {
            prom_sample(f, name, h, (long long)h->rot.backup_pins);
        }
        break;
    case M_LEAF_EXPIRY:
        if (h->leaf_not_after != 0) {
            prom_sample(f, name, h, (long long)h->leaf_not_after);
        }
        break;
    case M_RULE_EXPIRY:
        if (pinned && pinset_rule_expires(h->rule) != 0) {
            prom_sample(f, name, h, (long long)pinset_rule_expires(h->rule));
        }
        break;
    case M_PIN_EXPIRY:
        if (pins_not_after(h) != 0) {
            prom_sample(f, name, h, (long long)pins_not_after(h));
        }
        break;
    case M_N:
    default:
        break;
    }
}

static void emit_prometheus(FILE *f, const check_run *run, const check_args *a,
                            const size_t counts[R_N])
{
    char shard[48] = "";

    /* one file per shard in one textfile directory: the run's own series must not collide */
    if (a->shard_n > 1) {
        snprintf(shard, sizeof(shard), "shard=\"%lu/%lu\"", a->shard_i, a->shard_n);
    }
    for (int m = 0; m < M_N; m++) {
        prom_head(f, prom_names[m][0], prom_names[m][1]);
        for (size_t i = 0; i < run->n; i++) {
            prom_host(f, (prom_metric)m, &run->hosts[i]);
        }
    }
    prom_head(f, "pinset_check_hosts", "hosts checked in this run, by result");
    for (int r = 0; r < R_N; r++) {
        fprintf(f, "pinset_check_hosts{result=\"%s\"%s%s} %zu\n", prom_results[r],
                shard[0] != '\0' ? "," : "", shard, counts[r]);
    }
    prom_head(f, "pinset_check_timestamp_seconds",
              "the time the pins were checked at, in seconds since the Unix epoch");
    fprintf(f, "pinset_check_timestamp_seconds%s%s%s %lld\n", shard[0] != '\0' ? "{" : "", shard,
            shard[0] != '\0' ? "}" : "", (long long)run->now);
}

/*
 * ---- Nagios: the Monitoring Plugins guidelines ----
 *
 * One status line, "PINSET STATE - text | perfdata", and the exit status of
 * the state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Perfdata is
 * 'label'=value[UOM];[warn];[crit];[min];[max], thresholds as ranges ("20:"
 * alerts below 20).
 */

static const char *const ng_words[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

/* A host that could not be checked (not one whose handshake the pin hook failed). */
static int host_unchecked(const host_report *h)
{
    return h->status != PROBE_OK && !h->aborted;
}

/* The state a host's result (not its expiry) calls for. */
static int ng_result_state(const host_report *h, int strict)
{
    if (h->outcome == R_FAIL || (strict && h->outcome == R_REPORT_ONLY_FAIL)) {
        return NG_CRITICAL;
    }
    if (host_unchecked(h)) {
        return NG_UNKNOWN;
    }
    return h->outcome == R_REPORT_ONLY_FAIL ? NG_WARNING : NG_OK;
}

/*
 * The run's state: CRITICAL (a pin failure, an invalid chain, an expiry under
 * --critical) outranks UNKNOWN (a host that could not be checked may be
 * failing), which outranks WARNING (a report-only mismatch, an expiry under
 * --warning).
 */
static int ng_state(const check_run *run, const check_args *a)
{
    int crit = 0, unknown = 0, warn = 0;

    for (size_t i = 0; i < run->n; i++) {
        const host_report *h = &run->hosts[i];
        int s = ng_result_state(h, a->strict);
        crit |= s == NG_CRITICAL || h->alert == A_CRITICAL;
        unknown |= s == NG_UNKNOWN;
        warn |= s == NG_WARNING || h->alert == A_WARNING;
    }
    return crit ? NG_CRITICAL : unknown ? NG_UNKNOWN : warn ? NG_WARNING : NG_OK;
}

/* Status text: no control byte (one line) and no '|' (it starts the perfdata). */
static void ng_text(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c < 0x20 || c == 0x7f || c == '|' ? '?' : c, f);
    }
}

/* The host with the earliest date (leaf or pins) and its whole days left; NULL if none. */
static const host_report *ng_earliest(const check_run *run, int pins, long long *days)
{
    const host_report *best = NULL;
    int64_t best_t = 0;

    for (size_t i = 0; i < run->n; i++) {
        const host_report *h = &run->hosts[i];
        int64_t t = pins ? pins_not_after(h) : h->leaf_not_after;
        if (t != 0 && (best == NULL || t < best_t)) {
            best = h;
            best_t = t;
        }
    }
    if (best != NULL) {
        *days = (long long)chk_days(best_t, run->now);
    }
    return best;
}

static void ng_expiry_text(FILE *f, const check_run *run, const check_args *a, int pins)
{
    long long d = 0;
    const host_report *h = ng_earliest(run, pins, &d);

    if (h == NULL ||
        !((a->warn_days >= 0 && d < a->warn_days) || (a->crit_days >= 0 && d < a->crit_days))) {
        return;
    }
    fprintf(f, "; %s expiry: %lld days (", pins ? "pin" : "leaf", d);
    ng_text(f, h->t->host);
    fprintf(f, ":%u)", (unsigned int)h->t->port);
}

static void ng_perf_days(FILE *f, const check_run *run, const check_args *a, int pins)
{
    long long d = 0;

    if (ng_earliest(run, pins, &d) == NULL) {
        return;
    }
    fprintf(f, " min_%s_expiry_days=%lld", pins ? "pin" : "leaf", d);
    if (a->warn_days < 0 && a->crit_days < 0) {
        return;
    }
    fputc(';', f);
    if (a->warn_days >= 0) {
        fprintf(f, "%ld:", a->warn_days);
    }
    fputc(';', f);
    if (a->crit_days >= 0) {
        fprintf(f, "%ld:", a->crit_days);
    }
}

static void emit_nagios(FILE *f, const check_run *run, const check_args *a,
                        const size_t counts[R_N], int state)
{
    const host_report *first = NULL;

    for (size_t i = 0; i < run->n && first == NULL && state != NG_OK; i++) {
        if (ng_result_state(&run->hosts[i], a->strict) == state) {
            first = &run->hosts[i];
        }
    }
    fprintf(f,
            "PINSET %s - %zu host%s: %zu pass, %zu fail, %zu report-only fail, %zu not pinned, "
            "%zu expired-open, %zu error",
            ng_words[state], run->n, run->n == 1 ? "" : "s", counts[R_PASS], counts[R_FAIL],
            counts[R_REPORT_ONLY_FAIL], counts[R_NOT_PINNED], counts[R_EXPIRED_OPEN],
            counts[R_ERROR]);
    if (first != NULL) {
        fputs("; first: ", f);
        ng_text(f, first->t->host);
        fprintf(f, ":%u %s", (unsigned int)first->t->port, outcome_names[first->outcome]);
    }
    ng_expiry_text(f, run, a, 0);
    ng_expiry_text(f, run, a, 1);
    fprintf(f,
            " | hosts=%zu pass=%zu fail=%zu report_only_fail=%zu not_pinned=%zu expired_open=%zu "
            "error=%zu",
            run->n, counts[R_PASS], counts[R_FAIL], counts[R_REPORT_ONLY_FAIL],
            counts[R_NOT_PINNED], counts[R_EXPIRED_OPEN], counts[R_ERROR]);
    ng_perf_days(f, run, a, 0);
    ng_perf_days(f, run, a, 1);
    fputc('\n', f);
}

/* The one line of a run that ended before any result: UNKNOWN, with the reason. */
static void emit_nagios_error(const char *why)
{
    printf("PINSET UNKNOWN - ");
    ng_text(stdout, why[0] != '\0' ? why : "internal error");
    printf("\n");
    fflush(stdout);
}

/* ---- output ---- */

static json_t *days_or_null(long days)
{
    return days >= 0 ? json_integer((json_int_t)days) : json_null();
}

static json_t *summary_json(const check_run *run, const check_args *a, const size_t counts[R_N])
{
    json_t *o = json_object(), *c = json_object(), *sh = json_object(), *th = json_object();
    int bad = 0;

    if (o == NULL || c == NULL || sh == NULL || th == NULL) {
        json_decref(o);
        json_decref(c);
        json_decref(sh);
        json_decref(th);
        return NULL;
    }
    bad |= out_json_set(th, "warning_days", days_or_null(a->warn_days));
    bad |= out_json_set(th, "critical_days", days_or_null(a->crit_days));
    for (int r = 0; r < R_N; r++) {
        bad |= out_json_set(c, outcome_names[r], json_integer((json_int_t)counts[r]));
    }
    bad |= out_json_set(sh, "index", json_integer((json_int_t)a->shard_i));
    bad |= out_json_set(sh, "count", json_integer((json_int_t)a->shard_n));
    bad |= out_json_set(o, "version", json_integer(1));
    bad |= out_json_set(o, "policy", out_json_str(run->policy_path));
    bad |= out_json_set(o, "now", iso_json(run->now));
    bad |= out_json_set(o, "shard", sh);
    bad |= out_json_set(o, "total", json_integer((json_int_t)run->n));
    bad |= out_json_set(o, "counts", c);
    bad |= out_json_set(o, "thresholds", th);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int emit_json(FILE *f, const check_run *run, const check_args *a, const size_t counts[R_N])
{
    json_t *doc = summary_json(run, a, counts), *list = json_array();
    int err = 0;

    for (size_t i = 0; doc != NULL && list != NULL && i < run->n && err == 0; i++) {
        err = json_array_append_new(list, host_json(&run->hosts[i], run->now)) != 0;
    }
    if (doc == NULL || list == NULL || err) {
        json_decref(doc);
        json_decref(list);
        return -1;
    }
    if (out_json_set(doc, "hosts", list) != 0) { /* the reference to list is stolen */
        json_decref(doc);
        return -1;
    }
    err = out_json_dump(f, doc) != 0;
    json_decref(doc);
    return err ? -1 : 0;
}

/* The results in the format asked for, to f. 0, or -1 when out of memory or f failed. */
static int emit(FILE *f, const check_run *run, const check_args *a, const size_t counts[R_N],
                int state)
{
    int err = 0;

    switch (a->fmt) {
    case FMT_TEXT: {
        int color = out_color_enabled(f, a->color);
        for (size_t i = 0; i < run->n; i++) {
            if (!(a->quiet && run->hosts[i].outcome == R_PASS)) {
                print_host_text(f, &run->hosts[i], run, a, color);
            }
        }
        fprintf(f,
                "%zu host%s: %zu PASS, %zu FAIL, %zu REPORT_ONLY_FAIL, %zu NOT_PINNED, "
                "%zu EXPIRED_OPEN, %zu ERROR\n",
                run->n, run->n == 1 ? "" : "s", counts[R_PASS], counts[R_FAIL],
                counts[R_REPORT_ONLY_FAIL], counts[R_NOT_PINNED], counts[R_EXPIRED_OPEN],
                counts[R_ERROR]);
        break;
    }
    case FMT_JSONL:
        for (size_t i = 0; i < run->n && err == 0; i++) {
            json_t *h = host_json(&run->hosts[i], run->now);
            err = h == NULL || json_dumpf(h, f, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
                  fputc('\n', f) == EOF;
            json_decref(h);
        }
        break;
    case FMT_JSON:
        err = emit_json(f, run, a, counts) != 0;
        break;
    case FMT_PROM:
        emit_prometheus(f, run, a, counts);
        break;
    case FMT_NAGIOS:
        emit_nagios(f, run, a, counts, state);
        break;
    default:
        return -1;
    }
    return err || ferror(f) || fflush(f) != 0 ? -1 : 0;
}

/* ---- targets: from the arguments, a file or the policy; sorted, deduplicated, sharded ---- */

static int target_cmp(const void *pa, const void *pb)
{
    const probe_target *a = pa, *b = pb;
    int c = strcmp(a->host, b->host);

    if (c != 0) {
        return c;
    }
    if (a->port != b->port) {
        return a->port < b->port ? -1 : 1;
    }
    if (a->naddrs != b->naddrs) {
        return a->naddrs < b->naddrs ? -1 : 1;
    }
    for (size_t i = 0; i < a->naddrs; i++) {
        c = strcmp(a->addrs[i], b->addrs[i]);
        if (c != 0) {
            return c;
        }
    }
    return 0;
}

/* Sort by (host, port, addresses), drop duplicates, keep index mod n == i. */
static void sort_and_shard(target_list *tl, unsigned long si, unsigned long sn)
{
    size_t k = 0, idx = 0;

    if (tl->count > 1) {
        qsort(tl->items, tl->count, sizeof(*tl->items), target_cmp);
    }
    for (size_t j = 0; j < tl->count; j++) {
        if (j > 0 && target_cmp(&tl->items[j], &tl->items[j - 1]) == 0) {
            continue; /* a duplicate */
        }
        if (idx++ % sn == si) {
            tl->items[k++] = tl->items[j];
        }
    }
    tl->count = k;
}

static int targets_from_policy(target_list *tl, const pinset_policy *p, char *err, size_t cap)
{
    for (size_t i = 0; i < pinset_policy_rule_count(p); i++) {
        const pinset_rule *r = pinset_policy_rule(p, i);
        if (pinset_rule_is_exclusion(r)) {
            continue;
        }
        if (targets_add(tl, pinset_rule_host(r), NULL, NULL, 443, err, cap) != 0) {
            return -1;
        }
    }
    return 0;
}

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

/* An error that ends the run: "pinset: check: msg" on stderr, the message kept for nagios. */
static void run_error(check_args *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void run_error(check_args *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(a->why, sizeof(a->why), fmt, ap);
    va_end(ap);
    cli_err("check", "%s", a->why);
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
        if (host_unchecked(&run->hosts[i])) {
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
        } else if (host_unchecked(h)) {
            char msg[256];
            out_safe_copy(msg, sizeof(msg), h->error);
            cli_err("check", "%s:%u: not checked: %s", h->t->host, (unsigned int)h->t->port, msg);
        }
    }
}

static int setup_run(check_run *run, check_args *a, SSL_CTX **ctx_out)
{
    pinset_ossl_opts oo = PINSET_OSSL_OPTS_INIT;
    char err[256];
    SSL_CTX *ctx;

    ctx = chk_client_ctx(a->net.po.cafile, a->net.po.capath, a->net.now, err, sizeof(err));
    if (ctx == NULL) {
        run_error(a, "%s", err);
        return EXIT_INPUT;
    }
    *ctx_out = ctx;
    oo.clock = run_clock;
    oo.clock_payload = run;
    if (pinset_ossl_new(&run->pin, run->policy, &oo, NULL) != PINSET_OK ||
        pinset_ossl_attach(run->pin, ctx, NULL) != PINSET_OK ||
        pinset_result_new(&run->tmp, NULL) != PINSET_OK) {
        run_error(a, "cannot set up the verdict hook");
        return EXIT_INTERNAL;
    }
    a->net.po.ctx = ctx;
    a->net.po.on_ssl = on_ssl;
    a->net.po.on_ssl_payload = run;
    return -1;
}

/*
 * Write the results to standard output, or to --output's temporary and rename it over FILE.
 * 0, or an exit status after a message (FILE is then left as it was).
 */
static int write_results(const check_run *run, check_args *a, const size_t counts[R_N], int state)
{
    char err[512];

    if (emit(a->output != NULL ? a->of.f : stdout, run, a, counts, state) != 0) {
        if (a->output == NULL) {
            return cli_output_failed("check"); /* quietly by SIGPIPE when the reader has gone */
        }
        int e = errno;
        char name[256];
        out_safe_copy(name, sizeof(name), a->output);
        if (e != 0) {
            run_error(a, "cannot write %s: %s", name, strerror(e));
        } else {
            run_error(a, "cannot write %s", name);
        }
        return EXIT_INTERNAL; /* cmd_check removes the temporary */
    }
    if (a->output != NULL && outfile_commit(&a->of, err, sizeof(err)) != 0) {
        run_error(a, "%s", err);
        return EXIT_INTERNAL;
    }
    return 0;
}

/* --output: create the temporary before anything is probed, so that a bad path costs nothing. */
static int open_output(check_args *a)
{
    char err[512];

    if (a->output != NULL && outfile_open(&a->of, a->output, err, sizeof(err)) != 0) {
        run_error(a, "%s", err);
        return EXIT_INPUT;
    }
    return 0;
}

/* Probe, judge and write. Returns the exit status; *done is 1 once the results are written. */
static int run_check(check_run *run, check_args *a, const target_list *tl, int *done)
{
    size_t counts[R_N] = {0};
    SSL_CTX *ctx = NULL;
    probe_engine *e = NULL;
    char err[256];
    int rc, state, wr;

    run->targets = tl->items;
    run->n = tl->count;
    run->ssl = calloc(tl->count ? tl->count : 1, sizeof(*run->ssl));
    run->hosts = calloc(tl->count ? tl->count : 1, sizeof(*run->hosts));
    if (run->ssl == NULL || run->hosts == NULL) {
        run_error(a, "out of memory");
        rc = EXIT_INTERNAL;
        goto out;
    }
    rc = setup_run(run, a, &ctx);
    if (rc >= 0) {
        goto out;
    }
    e = probe_engine_new(&a->net.po, err, sizeof(err));
    if (e == NULL) {
        run_error(a, "%s", err);
        rc = EXIT_INPUT;
        goto out;
    }
    if (probe_engine_run(e, tl->items, tl->count, on_result, run, err, sizeof(err)) != 0) {
        run_error(a, "%s", err);
        rc = EXIT_INTERNAL;
        goto out;
    }
    out_progress_done();
    if (run->oom) {
        run_error(a, "out of memory");
        rc = EXIT_INTERNAL;
        goto out;
    }
    for (size_t i = 0; i < run->n; i++) {
        counts[run->hosts[i].outcome]++;
        run->hosts[i].alert = alert_of(&run->hosts[i], a, run->now);
    }
    state = ng_state(run, a);
    rc = a->fmt == FMT_NAGIOS ? state : exit_status(run, counts, a->strict);
    warn_hosts(run, a);
    wr = write_results(run, a, counts, state);
    if (wr != 0) {
        rc = wr; /* the output could not be written */
        goto out;
    }
    *done = 1;
out:
    probe_engine_free(e);
    for (size_t i = 0; run->ssl != NULL && i < run->n; i++) {
        SSL_free(run->ssl[i]);
    }
    free(run->ssl);
    for (size_t i = 0; run->hosts != NULL && i < run->n; i++) {
        free(run->hosts[i].served);
    }
    free(run->hosts);
    pinset_result_free(run->tmp);
    pinset_ossl_free(run->pin);
    SSL_CTX_free(ctx);
    return rc;
}

static int collect_targets(check_args *a, const pinset_policy *policy, target_list *tl)
{
    char err[512];

    for (size_t i = 0; i < a->nhosts; i++) {
        if (targets_add(tl, a->hosts[i], NULL, NULL, 443, err, sizeof(err)) != 0) {
            run_error(a, "%s", err);
            return EXIT_INPUT;
        }
    }
    if (a->targets_file != NULL &&
        targets_load_file(tl, a->targets_file, NULL, 443, err, sizeof(err)) != 0) {
        run_error(a, "%s", err);
        return EXIT_INPUT;
    }
    if (a->nhosts == 0 && a->targets_file == NULL &&
        targets_from_policy(tl, policy, err, sizeof(err)) != 0) {
        run_error(a, "%s", err);
        return EXIT_INPUT;
    }
    sort_and_shard(tl, a->shard_i, a->shard_n);
    if (targets_apply_map(tl, a->net.map, err, sizeof(err)) != 0) {
        run_error(a, "%s", err);
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
        run_error(&a, "out of memory");
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
        run_error(&a, "no host to check: the policy names none and none was given");
        rc = EXIT_USAGE;
        goto out;
    }
    rc = run_check(&run, &a, &tl, &done);
out:
    if (a.nagios && !done) {
        /* Monitoring Plugins: one status line even when the check could not run */
        emit_nagios_error(a.why);
        rc = NG_UNKNOWN;
    }
    outfile_abort(&a.of); /* a run that failed leaves FILE as it was; no-op once committed */
    targets_free(&tl);
    netopt_free(&a.net);
    pinset_policy_free(run.policy);
    free(a.hosts);
    return rc;
}
