/*
 * check_emit.c - the outputs of `pinset check`: text, JSON and JSON lines,
 * the Prometheus text exposition format and a Monitoring Plugins (Nagios)
 * status line, from a round's host reports (check_run.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "common.h"

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
    const char *result = check_outcome_names[h->outcome];
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
    bad |= out_json_set(o, "result", json_string(check_outcome_names[h->outcome]));
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
    bad |=
        out_json_set(o, "expiry_alert",
                     h->alert != A_NONE ? json_string(check_alert_names[h->alert]) : json_null());
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

enum alert check_alert_of(const host_report *h, const check_args *a, int64_t now)
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
const char *const check_prom_results[R_N] = {"pass",       "fail",         "report_only_fail",
                                             "not_pinned", "expired_open", "error"};

/*
 * A label value as the exposition format escapes it: backslash, double quote
 * and line feed as \\, \" and \n. Other control bytes cannot occur in a
 * canonical host name; they are written as '?' all the same.
 */
void check_prom_label(FILE *f, const char *s)
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

void check_prom_head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{host="...",port="..." and, when result is not NULL, ,result="..." */
static void prom_open(FILE *f, const char *name, const host_report *h, const char *result)
{
    fprintf(f, "%s{host=\"", name);
    check_prom_label(f, h->t->host);
    fprintf(f, "\",port=\"%u\",address=\"", (unsigned int)h->t->port);
    /* the addresses a targets line named: one host checked at each of its backends */
    for (size_t i = 0; i < h->t->naddrs; i++) {
        if (i > 0) {
            fputc(',', f);
        }
        check_prom_label(f, h->t->addrs[i]);
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
            prom_open(f, name, h, check_prom_results[r]);
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
        check_prom_head(f, prom_names[m][0], "gauge", prom_names[m][1]);
        for (size_t i = 0; i < run->n; i++) {
            prom_host(f, (prom_metric)m, &run->hosts[i]);
        }
    }
    check_prom_head(f, "pinset_check_hosts", "gauge", "hosts checked in this run, by result");
    for (int r = 0; r < R_N; r++) {
        fprintf(f, "pinset_check_hosts{result=\"%s\"%s%s} %zu\n", check_prom_results[r],
                shard[0] != '\0' ? "," : "", shard, counts[r]);
    }
    check_prom_head(f, "pinset_check_timestamp_seconds", "gauge",
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
int check_host_unchecked(const host_report *h)
{
    return h->status != PROBE_OK && !h->aborted;
}

/* The state a host's result (not its expiry) calls for. */
static int ng_result_state(const host_report *h, int strict)
{
    if (h->outcome == R_FAIL || (strict && h->outcome == R_REPORT_ONLY_FAIL)) {
        return NG_CRITICAL;
    }
    if (check_host_unchecked(h)) {
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
int check_ng_state(const check_run *run, const check_args *a)
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
        fprintf(f, ":%u %s", (unsigned int)first->t->port, check_outcome_names[first->outcome]);
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
void check_emit_nagios_error(const char *why)
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
        bad |= out_json_set(c, check_outcome_names[r], json_integer((json_int_t)counts[r]));
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
int check_emit(FILE *f, const check_run *run, const check_args *a, const size_t counts[R_N],
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
