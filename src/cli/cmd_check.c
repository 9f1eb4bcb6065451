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
#include <jansson.h>
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
    O_IPV4,
    O_IPV6,
    O_END
};

static const opt_spec check_opts[] = {
    [O_POLICY] = {"policy", 'p', "FILE", "the pin policy (native JSON); required"},
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
    int aborted; /* the hook failed the handshake (a FAIL verdict or an invalid chain) */
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

static void print_pin_ref(const pinset_rule *rule, size_t i)
{
    const pinset_pin *p = pinset_rule_pin(rule, i);
    const char *label = pinset_rule_pin_label(rule, i);

    printf("[%zu] ", i);
    if (label != NULL) {
        printf("\"");
        out_safe(stdout, label);
        printf("\" ");
    }
    printf("(%s, role %s)", chk_kind_name(p->kind),
           pinset_role_name(pinset_rule_pin_role(rule, i)));
}

static void print_days(const char *what, int64_t t, int64_t now)
{
    char iso[OUT_TIME_MAX];
    int64_t d;

    if (t == 0) {
        printf("%s never", what);
        return;
    }
    d = chk_days(t, now);
    chk_time_text(iso, sizeof(iso), t);
    if (d < 0) {
        printf("%s expired %lld days ago (%s)", what, (long long)-d, iso);
    } else {
        printf("%s in %lld days (%s)", what, (long long)d, iso);
    }
}

static void print_rotation(const host_report *h)
{
    const chk_rotation *r = &h->rot;

    printf("  rotation:   %s: ", r->ready ? "ready" : "NOT READY");
    if (r->backup_pins > 0) {
        printf("%zu backup pin%s not in the live chain, first ", r->backup_pins,
               r->backup_pins == 1 ? "" : "s");
        print_pin_ref(h->rule, r->first_backup);
    } else {
        printf("no backup pin: every pin is in the live chain or expired (RFC 7469 section 4.3)");
    }
    printf("\n              a new leaf key %s", r->new_leaf_passes
                                                    ? "passes (a pin matches a CA of the chain)"
                                                    : "would FAIL (no pin above the leaf matches)");
    if (!r->new_leaf_passes) {
        printf("; %s", r->backup_leaf_passes ? "a new leaf on the backup key passes"
                                             : "no backup key would pass as the leaf");
    }
    printf("\n");
}

static void print_host_text(const host_report *h, int64_t now)
{
    const probe_target *t = h->t;

    out_safe(stdout, t->host);
    printf(":%u", (unsigned int)t->port);
    if (h->address[0] != '\0') {
        printf(" (%s)", h->address);
    }
    printf(": %s\n", outcome_names[h->outcome]);
    if (h->status != PROBE_OK && !h->aborted) {
        printf("  error:      ");
        out_safe(stdout, h->error);
        printf("\n");
    }
    if (!h->has_verdict) {
        if (h->rule != NULL) {
            printf("  rule:       rules[%zu] \"", pinset_rule_index(h->rule));
            out_safe(stdout, pinset_rule_host(h->rule));
            printf("\" (%s, %s); not checked\n", pinset_match_name(h->match),
                   pinset_mode_name(h->mode));
        }
        printf("\n");
        return;
    }
    if (!h->validated) {
        printf("  validation: FAILED: %s (pins are matched only against a validated chain)\n",
               X509_verify_cert_error_string(h->verify_error));
    }
    printf("  verdict:    ");
    out_safe(stdout, h->explain);
    printf("\n");
    if (h->rule != NULL) {
        printf("  rule:       rules[%zu] \"", pinset_rule_index(h->rule));
        out_safe(stdout, pinset_rule_host(h->rule));
        printf("\" (%s, %s%s)", pinset_match_name(h->match), pinset_mode_name(h->mode),
               h->rule_expired ? ", expired" : "");
        if (pinset_rule_pinset_name(h->rule) != NULL) {
            printf(", pin-set ");
            out_safe(stdout, pinset_rule_pinset_name(h->rule));
        }
        printf("\n");
    }
    if (h->matched && h->rule != NULL && h->verdict == PINSET_VERDICT_PASS) {
        printf("  matched:    pin ");
        print_pin_ref(h->rule, h->pin_index);
        printf(" at depth %zu\n", h->depth);
    }
    if (h->rot.analysed) {
        print_rotation(h);
    }
    printf("  expiry:     ");
    print_days("leaf", h->leaf_not_after, now);
    if (h->rule != NULL && !pinset_rule_is_exclusion(h->rule)) {
        printf("; ");
        print_days("rule", pinset_rule_expires(h->rule), now);
        if (h->rot.analysed) {
            printf("; ");
            print_days("pins", h->rot.pins_not_after, now);
        }
    }
    printf("\n\n");
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
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- Prometheus text exposition format ---- */

/* A label value: backslash, double quote and newline escaped; other control bytes as '?'. */
static void prom_label(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == '"') {
            printf("\\%c", c);
        } else if (c == '\n') {
            printf("\\n");
        } else if (c < 0x20 || c == 0x7f) {
            putchar('?');
        } else {
            putchar(c);
        }
    }
}

static void prom_head(const char *name, const char *help)
{
    printf("# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void prom_sample(const char *name, const host_report *h, long long value)
{
    printf("%s{host=\"", name);
    prom_label(h->t->host);
    printf("\",port=\"%u\"} %lld\n", (unsigned int)h->t->port, value);
}

typedef enum prom_metric {
    M_UP,
    M_PASS,
    M_RESULT,
    M_READY,
    M_BACKUP,
    M_LEAF_DAYS,
    M_RULE_DAYS,
    M_PIN_DAYS,
    M_N
} prom_metric;

static const char *const prom_names[M_N][2] = {
    {"pinset_check_up", "1 when a verdict was reached for the host (it could be checked)"},
    {"pinset_check_pass", "1 when the host passed its pin check (result PASS)"},
    {"pinset_check_result", "1 for the host's result (label result)"},
    {"pinset_check_rotation_ready",
     "1 when a backup pin outside the live chain exists and a leaf key rotation would pass"},
    {"pinset_check_backup_pins",
     "pins of the host's rule that are not in the live validated chain"},
    {"pinset_leaf_expiry_days",
     "whole days until the leaf certificate expires (negative once expired)"},
    {"pinset_rule_expiry_days", "whole days until the host's policy rule expires"},
    {"pinset_pin_expiry_days", "whole days until the first pin of the host's rule stops counting"},
};

static void prom_host(prom_metric m, const host_report *h, int64_t now)
{
    const char *name = prom_names[m][0];
    int pinned = h->rule != NULL && !pinset_rule_is_exclusion(h->rule);

    switch (m) {
    case M_UP:
        prom_sample(name, h, h->has_verdict);
        break;
    case M_PASS:
        prom_sample(name, h, h->outcome == R_PASS);
        break;
    case M_RESULT:
        printf("%s{host=\"", name);
        prom_label(h->t->host);
        printf("\",port=\"%u\",result=\"%s\"} 1\n", (unsigned int)h->t->port,
               outcome_names[h->outcome]);
        break;
    case M_READY:
        if (h->rot.analysed) {
            prom_sample(name, h, h->rot.ready);
        }
        break;
    case M_BACKUP:
        if (h->rot.analysed) {
            prom_sample(name, h, (long long)h->rot.backup_pins);
        }
        break;
    case M_LEAF_DAYS:
        if (h->leaf_not_after != 0) {
            prom_sample(name, h, (long long)chk_days(h->leaf_not_after, now));
        }
        break;
    case M_RULE_DAYS:
        if (pinned && pinset_rule_expires(h->rule) != 0) {
            prom_sample(name, h, (long long)chk_days(pinset_rule_expires(h->rule), now));
        }
        break;
    case M_PIN_DAYS:
        if (h->rot.analysed && h->rot.pins_not_after != 0) {
            prom_sample(name, h, (long long)chk_days(h->rot.pins_not_after, now));
        }
        break;
    case M_N:
    default:
        break;
    }
}

static void emit_prometheus(const check_run *run, const size_t counts[R_N])
{
    for (int m = 0; m < M_N; m++) {
        prom_head(prom_names[m][0], prom_names[m][1]);
        for (size_t i = 0; i < run->n; i++) {
            prom_host((prom_metric)m, &run->hosts[i], run->now);
        }
    }
    prom_head("pinset_check_hosts", "hosts checked in this run, by result");
    for (int r = 0; r < R_N; r++) {
        printf("pinset_check_hosts{result=\"%s\"} %zu\n", outcome_names[r], counts[r]);
    }
    prom_head("pinset_check_timestamp_seconds", "the time the pins were checked at");
    printf("pinset_check_timestamp_seconds %lld\n", (long long)run->now);
}

/* ---- Nagios: one status line with performance data ---- */

static void emit_nagios(const check_run *run, const size_t counts[R_N], int rc)
{
    const char *word = rc == EXIT_NEGATIVE              ? "CRITICAL"
                       : rc != EXIT_OK                  ? "UNKNOWN"
                       : counts[R_REPORT_ONLY_FAIL] > 0 ? "WARNING"
                                                        : "OK";
    const host_report *worst = NULL;
    long long min_days = 0;
    int have_days = 0;

    for (size_t i = 0; i < run->n; i++) {
        const host_report *h = &run->hosts[i];
        if (worst == NULL &&
            (h->outcome == R_FAIL || (rc != EXIT_NEGATIVE && h->outcome == R_ERROR) ||
             (rc == EXIT_OK && h->outcome == R_REPORT_ONLY_FAIL))) {
            worst = h;
        }
        if (h->leaf_not_after != 0 &&
            (!have_days || chk_days(h->leaf_not_after, run->now) < min_days)) {
            min_days = (long long)chk_days(h->leaf_not_after, run->now);
            have_days = 1;
        }
    }
    printf("PINSET %s - %zu host%s: %zu pass, %zu fail, %zu report-only fail, %zu not pinned, "
           "%zu expired-open, %zu error",
           word, run->n, run->n == 1 ? "" : "s", counts[R_PASS], counts[R_FAIL],
           counts[R_REPORT_ONLY_FAIL], counts[R_NOT_PINNED], counts[R_EXPIRED_OPEN],
           counts[R_ERROR]);
    if (worst != NULL) {
        printf("; first: ");
        prom_label(worst->t->host); /* escapes '|' nowhere, but no host name holds one */
        printf(":%u %s", (unsigned int)worst->t->port, outcome_names[worst->outcome]);
    }
    printf(" | hosts=%zu pass=%zu fail=%zu report_only_fail=%zu not_pinned=%zu expired_open=%zu "
           "error=%zu",
           run->n, counts[R_PASS], counts[R_FAIL], counts[R_REPORT_ONLY_FAIL], counts[R_NOT_PINNED],
           counts[R_EXPIRED_OPEN], counts[R_ERROR]);
    if (have_days) {
        printf(" min_leaf_expiry_days=%lld", min_days);
    }
    printf("\n");
}

/* ---- output ---- */

static json_t *summary_json(const check_run *run, const check_args *a, const size_t counts[R_N])
{
    json_t *o = json_object(), *c = json_object(), *sh = json_object();
    int bad = 0;

    if (o == NULL || c == NULL || sh == NULL) {
        json_decref(o);
        json_decref(c);
        json_decref(sh);
        return NULL;
    }
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
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int emit(const check_run *run, const check_args *a, const size_t counts[R_N], int rc)
{
    json_t *doc, *list;
    int err = 0;

    switch (a->fmt) {
    case FMT_TEXT:
        for (size_t i = 0; i < run->n; i++) {
            print_host_text(&run->hosts[i], run->now);
        }
        printf("%zu host%s: %zu PASS, %zu FAIL, %zu REPORT_ONLY_FAIL, %zu NOT_PINNED, "
               "%zu EXPIRED_OPEN, %zu ERROR\n",
               run->n, run->n == 1 ? "" : "s", counts[R_PASS], counts[R_FAIL],
               counts[R_REPORT_ONLY_FAIL], counts[R_NOT_PINNED], counts[R_EXPIRED_OPEN],
               counts[R_ERROR]);
        break;
    case FMT_JSONL:
        for (size_t i = 0; i < run->n && err == 0; i++) {
            json_t *h = host_json(&run->hosts[i], run->now);
            err = h == NULL || json_dumpf(h, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
                  putchar('\n') == EOF;
            json_decref(h);
        }
        break;
    case FMT_JSON:
        doc = summary_json(run, a, counts);
        list = json_array();
        for (size_t i = 0; doc != NULL && list != NULL && i < run->n && err == 0; i++) {
            err = json_array_append_new(list, host_json(&run->hosts[i], run->now)) != 0;
        }
        if (doc == NULL || list == NULL || err || out_json_set(doc, "hosts", list) != 0) {
            json_decref(doc);
            return -1;
        }
        err = out_json_dump(stdout, doc) != 0;
        json_decref(doc);
        break;
    case FMT_PROM:
        emit_prometheus(run, counts);
        break;
    case FMT_NAGIOS:
        emit_nagios(run, counts, rc);
        break;
    default:
        return -1;
    }
    return err || fflush(stdout) != 0 ? -1 : 0;
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
            return opt_usage_error(&cmd_check_spec,
                                   "--shard '%s': expected I/N with 0 <= I < N <= 1000000", v);
        }
        return -1;
    case O_STRICT:
        a->strict = 1;
        return -1;
    default:
        return netopt_exit(r);
    }
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
            return rc;
        }
    }
    if (a->policy == NULL) {
        return opt_usage_error(&cmd_check_spec, "--policy FILE is required");
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
        if (run->hosts[i].status != PROBE_OK && !run->hosts[i].aborted) {
            return EXIT_NETWORK;
        }
    }
    return EXIT_OK;
}

static void warn_hosts(const check_run *run, int strict)
{
    for (size_t i = 0; i < run->n; i++) {
        const host_report *h = &run->hosts[i];
        if (h->outcome == R_REPORT_ONLY_FAIL) {
            cli_err("check", "%s:%u: report-only pin mismatch: the rule is in report mode%s",
                    h->t->host, (unsigned int)h->t->port,
                    strict ? "" : " (exit status 0; use --strict to fail)");
        } else if (h->status != PROBE_OK && !h->aborted) {
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
        cli_err("check", "%s", err);
        return EXIT_INPUT;
    }
    *ctx_out = ctx;
    oo.clock = run_clock;
    oo.clock_payload = run;
    if (pinset_ossl_new(&run->pin, run->policy, &oo, NULL) != PINSET_OK ||
        pinset_ossl_attach(run->pin, ctx, NULL) != PINSET_OK ||
        pinset_result_new(&run->tmp, NULL) != PINSET_OK) {
        cli_err("check", "cannot set up the verdict hook");
        return EXIT_INTERNAL;
    }
    a->net.po.ctx = ctx;
    a->net.po.on_ssl = on_ssl;
    a->net.po.on_ssl_payload = run;
    return -1;
}

static int run_check(check_run *run, check_args *a, const target_list *tl)
{
    size_t counts[R_N] = {0};
    SSL_CTX *ctx = NULL;
    probe_engine *e = NULL;
    char err[256];
    int rc;

    run->targets = tl->items;
    run->n = tl->count;
    run->ssl = calloc(tl->count ? tl->count : 1, sizeof(*run->ssl));
    run->hosts = calloc(tl->count ? tl->count : 1, sizeof(*run->hosts));
    if (run->ssl == NULL || run->hosts == NULL) {
        cli_err("check", "out of memory");
        rc = EXIT_INTERNAL;
        goto out;
    }
    rc = setup_run(run, a, &ctx);
    if (rc >= 0) {
        goto out;
    }
    e = probe_engine_new(&a->net.po, err, sizeof(err));
    if (e == NULL) {
        cli_err("check", "%s", err);
        rc = EXIT_INPUT;
        goto out;
    }
    if (probe_engine_run(e, tl->items, tl->count, on_result, run, err, sizeof(err)) != 0) {
        cli_err("check", "%s", err);
        rc = EXIT_INTERNAL;
        goto out;
    }
    out_progress_done();
    if (run->oom) {
        cli_err("check", "out of memory");
        rc = EXIT_INTERNAL;
        goto out;
    }
    for (size_t i = 0; i < run->n; i++) {
        counts[run->hosts[i].outcome]++;
    }
    rc = exit_status(run, counts, a->strict);
    warn_hosts(run, a->strict);
    if (emit(run, a, counts, rc) != 0) {
        cli_err("check", "cannot write the output");
        rc = EXIT_INTERNAL;
    }
out:
    probe_engine_free(e);
    for (size_t i = 0; run->ssl != NULL && i < run->n; i++) {
        SSL_free(run->ssl[i]);
    }
    free(run->ssl);
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
            cli_err("check", "%s", err);
            return EXIT_INPUT;
        }
    }
    if (a->targets_file != NULL &&
        targets_load_file(tl, a->targets_file, NULL, 443, err, sizeof(err)) != 0) {
        cli_err("check", "%s", err);
        return EXIT_INPUT;
    }
    if (a->nhosts == 0 && a->targets_file == NULL &&
        targets_from_policy(tl, policy, err, sizeof(err)) != 0) {
        cli_err("check", "%s", err);
        return EXIT_INPUT;
    }
    sort_and_shard(tl, a->shard_i, a->shard_n);
    if (targets_apply_map(tl, a->net.map, err, sizeof(err)) != 0) {
        cli_err("check", "%s", err);
        return EXIT_INTERNAL;
    }
    return -1;
}

int cmd_check(int argc, char **argv)
{
    check_args a;
    check_run run;
    target_list tl = TARGET_LIST_INIT;
    int rc;

    memset(&a, 0, sizeof(a));
    memset(&run, 0, sizeof(run));
    a.shard_n = 1;
    a.hosts = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*a.hosts));
    if (netopt_init(&a.net, check_formats) != 0 || a.hosts == NULL) {
        cli_err("check", "out of memory");
        rc = EXIT_INTERNAL;
        goto out;
    }
    rc = parse_args(&a, argc, argv);
    if (rc >= 0) {
        goto out;
    }
    rc = chk_load_policy("check", a.policy, &run.policy);
    if (rc != 0) {
        goto out;
    }
    run.policy_path = a.policy;
    run.now = a.net.now != 0 ? a.net.now : (int64_t)time(NULL); /* one instant for every host */
    rc = collect_targets(&a, run.policy, &tl);
    if (rc >= 0) {
        goto out;
    }
    if (tl.count == 0 && a.shard_n == 1) {
        cli_err("check", "no host to check: the policy names none and none was given");
        rc = EXIT_USAGE;
        goto out;
    }
    rc = run_check(&run, &a, &tl);
out:
    targets_free(&tl);
    netopt_free(&a.net);
    pinset_policy_free(run.policy);
    free(a.hosts);
    return rc;
}
